/**
 * API Gateway's route selection, compiled once per route table.
 *
 * First the stage: the longest stage prefix the path starts with (a whole segment: `/dev` serves
 * `/dev` and `/dev/…`, not `/devices`); a stage with prefix `''` takes the rest, as an HTTP API's
 * `$default` stage does. Then the route, most specific first
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html#http-api-develop-routes.evaluation):
 * a route without a greedy variable before one with (`{proxy+}`); between two paths, the one
 * whose first differing segment is literal rather than a variable; on the same path, the route of
 * the request's method before `ANY`. A method the route does not serve does not stop the search:
 * `POST /pets/dog/1` falls through to `ANY /{proxy+}`, as in the document's example.
 *
 * Paths: an HTTP API decodes the path before it routes (its `rawPath` arrives decoded,
 * honojs/hono#2156), a REST API routes the path as sent and decodes each path parameter. One
 * trailing slash is ignored (`/pets/` selects `GET /pets`, measured in
 * aws-powertools/powertools-lambda-python#1552); a variable never matches an empty segment, and a
 * greedy one needs at least one character.
 */
import { createHash } from 'node:crypto';
import { safeDecode, setOwn } from './request-parts.js';
import type { GatewayStage, RouteDef } from './types.js';

const LITERAL = 0;
const VARIABLE = 1;
const GREEDY = 2;

interface Segment {
  kind: typeof LITERAL | typeof VARIABLE | typeof GREEDY;
  /** The literal text, or the variable's name. */
  text: string;
}

export interface CompiledRoute {
  def: RouteDef;
  /** `GET /orders/{id}`: the HTTP API route key. */
  routeKey: string;
  /** A stable six-character id, as a REST API gives each resource. */
  resourceId: string;
  segments: readonly Segment[];
  /** Upper case. */
  method: string;
  isAny: boolean;
  decodesPath: boolean;
}

interface CompiledStage {
  stage: GatewayStage;
  /** What the stage was compiled from, to tell when it changed. */
  name: string;
  routes: readonly RouteDef[];
  prefix: string;
  /** Routes without variables, by path. */
  literal: Map<string, CompiledRoute[]>;
  /** Routes with variables, most specific first. */
  variable: CompiledRoute[];
}

export interface RouteTable {
  /** Longest prefix first. */
  stages: readonly CompiledStage[];
}

export interface RouteMatch {
  stage: GatewayStage;
  /** The stage's prefix, normalized: `''` or `/dev`. */
  prefix: string;
  route: CompiledRoute;
  pathParameters: Record<string, string> | undefined;
}

/** `/dev/` and `dev` are `/dev`; `/` is `''`. */
function normalizePrefix(prefix: string): string {
  let normalized = prefix.startsWith('/') ? prefix : `/${prefix}`;
  while (normalized.endsWith('/')) normalized = normalized.slice(0, -1);
  return normalized;
}

function parseSegments(path: string): Segment[] {
  if (path === '/' || path === '') return [];
  return path
    .slice(1)
    .split('/')
    .map((part): Segment => {
      if (part.startsWith('{') && part.endsWith('+}')) return { kind: GREEDY, text: part.slice(1, -2) };
      if (part.startsWith('{') && part.endsWith('}')) return { kind: VARIABLE, text: part.slice(1, -1) };
      return { kind: LITERAL, text: part };
    });
}

/** Negative when `a` is the more specific route. */
function bySpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const greedyA = a.segments.some((segment) => segment.kind === GREEDY);
  const greedyB = b.segments.some((segment) => segment.kind === GREEDY);
  if (greedyA !== greedyB) return greedyA ? 1 : -1;
  const length = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const difference = a.segments[i]!.kind - b.segments[i]!.kind;
    if (difference !== 0) return difference;
  }
  // A longer literal prefix before a greedy variable is more specific; otherwise length only orders.
  if (a.segments.length !== b.segments.length)
    return greedyA ? b.segments.length - a.segments.length : a.segments.length - b.segments.length;
  return Number(a.isAny) - Number(b.isAny);
}

function compileRoute(stageName: string, def: RouteDef): CompiledRoute {
  const method = def.method.toUpperCase();
  return {
    def,
    routeKey: `${method} ${def.path}`,
    resourceId: createHash('sha256').update(`${stageName}\0${def.path}`).digest('hex').slice(0, 6),
    segments: parseSegments(def.path),
    method,
    isAny: method === 'ANY',
    decodesPath: def.payload === '2.0',
  };
}

function compileStage(stage: GatewayStage): CompiledStage {
  const literal = new Map<string, CompiledRoute[]>();
  const variable: CompiledRoute[] = [];
  for (const def of stage.routes) {
    const route = compileRoute(stage.name, def);
    if (route.segments.every((segment) => segment.kind === LITERAL)) {
      const key = def.path === '/' ? '/' : def.path.replace(/\/+$/, '');
      const list = literal.get(key) ?? [];
      list.push(route);
      list.sort(bySpecificity);
      literal.set(key, list);
    } else {
      variable.push(route);
    }
  }
  variable.sort(bySpecificity);
  return { stage, name: stage.name, routes: stage.routes, prefix: normalizePrefix(stage.prefix), literal, variable };
}

/** Whether `compiled` still describes `stage`: same object, same routes array, same name and prefix. */
const isCurrent = (compiled: CompiledStage, stage: GatewayStage): boolean =>
  compiled.stage === stage &&
  compiled.routes === stage.routes &&
  compiled.name === stage.name &&
  compiled.prefix === normalizePrefix(stage.prefix);

/**
 * Compiles a route table. Stages unchanged since `previous` (same objects, same `routes` arrays)
 * are reused as they are, so a caller that wraps the same stages in a new array costs little.
 */
export function compileRoutes(stages: readonly GatewayStage[], previous?: RouteTable): RouteTable {
  const compiled = stages.map(
    (stage) => previous?.stages.find((known) => isCurrent(known, stage)) ?? compileStage(stage),
  );
  compiled.sort((a, b) => b.prefix.length - a.prefix.length);
  return { stages: compiled };
}

/** Whether `table` was compiled from exactly these stages (in any order), unchanged. */
export function isCompiledFrom(table: RouteTable, stages: readonly GatewayStage[]): boolean {
  return (
    table.stages.length === stages.length &&
    stages.every((stage) => table.stages.some((known) => isCurrent(known, stage)))
  );
}

/** The stage a path belongs to, and the path inside it (`/` at least). */
export function selectStage(table: RouteTable, path: string): { stage: CompiledStage; stagePath: string } | undefined {
  for (const stage of table.stages) {
    const { prefix } = stage;
    if (prefix === '') return { stage, stagePath: path };
    if (path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47) /* / */) {
      return { stage, stagePath: path.length === prefix.length ? '/' : path.slice(prefix.length) };
    }
  }
  return undefined;
}

const accepts = (route: CompiledRoute, method: string): boolean => route.isAny || route.method === method;

/** `/a/b/` → `/a/b`; `/` stays. */
const trimSlash = (path: string): string => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);

function matchVariable(
  route: CompiledRoute,
  parts: readonly string[],
  decode: boolean,
): Record<string, string> | undefined {
  const { segments } = route;
  const last = segments[segments.length - 1]!;
  const greedy = last.kind === GREEDY;
  if (greedy ? parts.length < segments.length : parts.length !== segments.length) return undefined;
  let params: Record<string, string> | undefined;
  const fixed = greedy ? segments.length - 1 : segments.length;
  for (let i = 0; i < fixed; i++) {
    const segment = segments[i]!;
    const part = parts[i]!;
    if (segment.kind === LITERAL) {
      if (part !== segment.text) return undefined;
    } else {
      if (part === '') return undefined;
      setOwn((params ??= {}), segment.text, decode ? safeDecode(part) : part);
    }
  }
  if (greedy) {
    const rest = fixed === parts.length - 1 ? parts[fixed]! : parts.slice(fixed).join('/');
    if (rest === '') return undefined;
    setOwn((params ??= {}), last.text, decode ? safeDecode(rest) : rest);
  }
  return params ?? {};
}

/** `/a/b/` → `['a', 'b', '']`: a greedy variable keeps the trailing slash, the others ignore it. */
const partsOf = (path: string): string[] => (path === '/' ? [] : path.slice(1).split('/'));

export function matchRoute(table: RouteTable, method: string, rawPath: string): RouteMatch | undefined {
  const selected = selectStage(table, rawPath);
  if (!selected) return undefined;
  const { stage, stagePath } = selected;
  // An HTTP API routes the decoded path, a REST API the path as sent; most paths are both.
  const decodedPath = stagePath.includes('%') ? safeDecode(stagePath) : stagePath;

  const literalFor = (path: string, decodes: boolean): CompiledRoute | undefined =>
    stage.literal.get(trimSlash(path))?.find((route) => route.decodesPath === decodes && accepts(route, method));
  const literal =
    decodedPath === stagePath
      ? stage.literal.get(trimSlash(stagePath))?.find((route) => accepts(route, method))
      : (literalFor(decodedPath, true) ?? literalFor(stagePath, false));
  if (literal) return { stage: stage.stage, prefix: stage.prefix, route: literal, pathParameters: undefined };

  if (stage.variable.length === 0) return undefined;
  const rawParts = partsOf(stagePath);
  const rawTrimmed = rawParts.length > 0 && rawParts[rawParts.length - 1] === '' ? rawParts.slice(0, -1) : rawParts;
  const decodedParts = decodedPath === stagePath ? rawParts : partsOf(decodedPath);
  const decodedTrimmed =
    decodedPath === stagePath
      ? rawTrimmed
      : decodedParts.length > 0 && decodedParts[decodedParts.length - 1] === ''
        ? decodedParts.slice(0, -1)
        : decodedParts;
  for (const route of stage.variable) {
    if (!accepts(route, method)) continue;
    const greedy = route.segments[route.segments.length - 1]!.kind === GREEDY;
    const parts = route.decodesPath ? (greedy ? decodedParts : decodedTrimmed) : greedy ? rawParts : rawTrimmed;
    // The decoded path is already decoded: decoding its parameters again would decode twice.
    const params = matchVariable(route, parts, !route.decodesPath);
    if (params) return { stage: stage.stage, prefix: stage.prefix, route, pathParameters: params };
  }
  return undefined;
}

// API Gateway's route selection: precedence, methods, path variables, trailing slashes, stages.
import { describe, expect, it } from 'vitest';
import { compileRoutes, isCompiledFrom, matchRoute } from './router.js';
import type { GatewayStage, RouteDef } from './types.js';

const route = (key: string, payload: '2.0' | '1.0' = '2.0'): RouteDef => {
  const [method, path] = key.split(' ') as [string, string];
  return { method, path, payload, function: key };
};
const table = (routes: RouteDef[], prefix = '') => compileRoutes([{ name: 'dev', prefix, routes }]);
const selected = (t: ReturnType<typeof table>, method: string, path: string) => {
  const match = matchRoute(t, method, path);
  return match && { key: match.route.routeKey, params: match.pathParameters };
};

describe('route precedence', () => {
  // The example of https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
  const documented = table(
    ['GET /pets/dog/1', 'GET /pets/dog/{id}', 'GET /pets/{proxy+}', 'ANY /{proxy+}'].map((key) => route(key)),
  );

  it.each([
    ['GET', '/pets/dog/1', 'GET /pets/dog/1', undefined],
    ['GET', '/pets/dog/2', 'GET /pets/dog/{id}', { id: '2' }],
    ['GET', '/pets/cat/1', 'GET /pets/{proxy+}', { proxy: 'cat/1' }],
    ['POST', '/pets/dog/1', 'ANY /{proxy+}', { proxy: 'pets/dog/1' }],
  ])('%s %s selects %s, as in the AWS document', (method, path, key, params) => {
    expect(selected(documented, method, path)).toEqual({ key, params });
  });

  it('prefers a literal segment to a variable at the first place they differ', () => {
    const t = table([route('GET /{a}/x'), route('GET /y/{b}')]);
    expect(selected(t, 'GET', '/y/x')).toEqual({ key: 'GET /y/{b}', params: { b: 'x' } });
    expect(selected(t, 'GET', '/z/x')).toEqual({ key: 'GET /{a}/x', params: { a: 'z' } });
  });

  it('prefers the route of the method to ANY on the same path', () => {
    const t = table([
      route('ANY /orders'),
      route('GET /orders'),
      route('ANY /orders/{id}'),
      route('DELETE /orders/{id}'),
    ]);
    expect(selected(t, 'GET', '/orders')?.key).toBe('GET /orders');
    expect(selected(t, 'POST', '/orders')?.key).toBe('ANY /orders');
    expect(selected(t, 'DELETE', '/orders/7')?.key).toBe('DELETE /orders/{id}');
    expect(selected(t, 'PATCH', '/orders/7')?.key).toBe('ANY /orders/{id}');
  });

  it('prefers the longer prefix among greedy routes', () => {
    const t = table([route('ANY /{proxy+}'), route('ANY /files/{proxy+}'), route('ANY /files/{id}/{proxy+}')]);
    expect(selected(t, 'GET', '/files/a/b/c')).toEqual({
      key: 'ANY /files/{id}/{proxy+}',
      params: { id: 'a', proxy: 'b/c' },
    });
    expect(selected(t, 'GET', '/files/a')).toEqual({ key: 'ANY /files/{proxy+}', params: { proxy: 'a' } });
    expect(selected(t, 'GET', '/other/a')).toEqual({ key: 'ANY /{proxy+}', params: { proxy: 'other/a' } });
  });

  it('finds nothing when no route serves the method or the path', () => {
    const t = table([route('GET /orders')]);
    expect(matchRoute(t, 'POST', '/orders')).toBeUndefined();
    expect(matchRoute(t, 'GET', '/orders/1')).toBeUndefined();
    expect(matchRoute(t, 'GET', '/Orders')).toBeUndefined();
  });
});

describe('paths', () => {
  it('ignores one trailing slash; a variable never matches an empty segment', () => {
    const t = table([route('GET /pets'), route('GET /users/{id}'), route('GET /')]);
    expect(selected(t, 'GET', '/pets/')?.key).toBe('GET /pets');
    expect(selected(t, 'GET', '/users/7/')).toEqual({ key: 'GET /users/{id}', params: { id: '7' } });
    expect(matchRoute(t, 'GET', '/users/')).toBeUndefined();
    expect(matchRoute(t, 'GET', '/users//')).toBeUndefined();
    expect(selected(t, 'GET', '/')?.key).toBe('GET /');
  });

  it('gives a greedy variable the rest of the path, trailing slash included, and at least one character', () => {
    const t = table([route('GET /files/{proxy+}')]);
    expect(selected(t, 'GET', '/files/a/b/c.txt')?.params).toEqual({ proxy: 'a/b/c.txt' });
    expect(selected(t, 'GET', '/files/a/')?.params).toEqual({ proxy: 'a/' });
    expect(matchRoute(t, 'GET', '/files')).toBeUndefined();
    expect(matchRoute(t, 'GET', '/files/')).toBeUndefined();
  });

  it('decodes path parameters (REST) and routes on the decoded path (HTTP API)', () => {
    const rest = table([route('GET /files/{name}', '1.0')]);
    expect(selected(rest, 'GET', '/files/a%20b')?.params).toEqual({ name: 'a b' });
    expect(matchRoute(rest, 'GET', '/files/a%2Fb')?.pathParameters).toEqual({ name: 'a/b' });
    const http = table([route('GET /files/{name}')]);
    expect(selected(http, 'GET', '/files/a%20b')?.params).toEqual({ name: 'a b' });
    expect(matchRoute(http, 'GET', '/files/a%2Fb')).toBeUndefined(); // decoded first: two segments
    expect(selected(table([route('GET /files/{proxy+}')]), 'GET', '/files/a%2Fb%25')?.params).toEqual({
      proxy: 'a/b%',
    });
  });

  it('gives a parameter named __proto__ its value', () => {
    expect(
      Object.getOwnPropertyDescriptor(
        matchRoute(table([route('GET /x/{__proto__}')]), 'GET', '/x/1')?.pathParameters,
        '__proto__',
      )?.value,
    ).toBe('1');
  });

  it('keeps malformed percent-encoding as sent', () => {
    expect(selected(table([route('GET /files/{name}', '1.0')]), 'GET', '/files/%E0%A4%A')?.params).toEqual({
      name: '%E0%A4%A',
    });
  });
});

describe('stages', () => {
  const stages: GatewayStage[] = [
    { name: 'dev', prefix: '/dev', routes: [route('GET /orders/{id}')] },
    { name: 'prod', prefix: '/prod/', routes: [route('GET /orders/{id}'), route('GET /')] },
  ];
  const t = compileRoutes(stages);

  it('selects the stage by its prefix, a whole segment only', () => {
    expect(matchRoute(t, 'GET', '/dev/orders/1')?.stage.name).toBe('dev');
    expect(matchRoute(t, 'GET', '/prod/orders/1')?.stage.name).toBe('prod');
    expect(matchRoute(t, 'GET', '/prod/orders/1')?.prefix).toBe('/prod');
    expect(matchRoute(t, 'GET', '/devices/orders/1')).toBeUndefined();
    expect(matchRoute(t, 'GET', '/orders/1')).toBeUndefined();
  });

  it('serves the stage root at the bare prefix', () => {
    expect(matchRoute(t, 'GET', '/prod')?.route.routeKey).toBe('GET /');
    expect(matchRoute(t, 'GET', '/prod/')?.route.routeKey).toBe('GET /');
  });

  it('lets a stage without prefix take every path no prefixed stage claims', () => {
    const mixed = compileRoutes([{ name: 'main', prefix: '', routes: [route('ANY /{proxy+}')] }, ...stages]);
    expect(matchRoute(mixed, 'GET', '/dev/orders/1')?.stage.name).toBe('dev');
    expect(matchRoute(mixed, 'GET', '/devices')?.stage.name).toBe('main');
  });

  it('reuses compiled stages that did not change', () => {
    expect(isCompiledFrom(t, [...stages])).toBe(true);
    expect(isCompiledFrom(t, [stages[0]!])).toBe(false);
    expect(isCompiledFrom(t, [stages[0]!, { ...stages[1]!, routes: [route('GET /')] }])).toBe(false);
    const next = compileRoutes([stages[0]!, { ...stages[1]!, routes: [] }], t);
    expect(next.stages.find((stage) => stage.name === 'dev')).toBe(t.stages.find((stage) => stage.name === 'dev'));
    expect(matchRoute(next, 'GET', '/prod/orders/1')).toBeUndefined();
  });
});

/**
 * The credential gate of `build`: committed credentials in the sources a release bundles, or in
 * the manifest, stop the build before any artifact is written. Code that could be published
 * at any moment must hold no credential; config and secrets come from the environment.
 *
 * Two detectors: secretlint's recommended rules (cloud keys, tokens, private keys, connection
 * strings with passwords …, https://github.com/secretlint/secretlint) over every scanned file,
 * and literal values under secret-looking config keys of `stagecraft.yml`. Dependencies in
 * node_modules are not scanned: they are not this app's committed code.
 *
 * A finding that is not a credential is let through by a `stagecraft-allow-secret` comment on
 * its line (or alone on the line above), or a `credentials.allow` entry of the manifest with a
 * reason; either way it is recorded in the release. secretlint's own `secretlint-disable`
 * comments are defused: nothing is let through without a record.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { sha256Hex, stableStringify } from '../digest.js';
import { StagecraftError } from '../errors.js';
import { findSecretLiterals, type CredentialAllowEntry } from '../manifest/index.js';
import { replaceCacheFile } from '../replace-file.js';
import type { AllowedCredential } from '../state/index.js';

export const ALLOW_MARKER = 'stagecraft-allow-secret';
export const CONFIG_LITERAL_RULE = 'stagecraft/config-literal';
const PRESET = '@secretlint/secretlint-rule-preset-recommend';
const RULE_PREFIX = '@secretlint/secretlint-rule-';

export interface CredentialFinding {
  /** Relative to the app, with `/`. */
  file: string;
  line: number;
  /** 1-based. */
  column: number;
  /** `@secretlint/secretlint-rule-github`, `stagecraft/config-literal`, … */
  rule: string;
  /** What was found, the value itself masked. */
  message: string;
}

/** A finding let through on purpose (the state layer records the same shape with the release). */
/** What a release records of a finding let through (defined with the release it belongs to). */
export type { AllowedCredential };

export interface CredentialScan {
  /** Findings nothing allows: the build must stop. */
  findings: CredentialFinding[];
  /** Findings let through, with who let them and why: recorded in the release. */
  allowed: AllowedCredential[];
  /** How many files were read. */
  files: number;
}

export interface CredentialScanOptions {
  /** The folder `files` are relative to. */
  root: string;
  /** Files to scan, relative to `root`. */
  files: readonly string[];
  /** The manifest, relative to `root`: also checked for literal values under secret-looking keys. */
  manifest?: string;
  allow?: readonly CredentialAllowEntry[];
  /**
   * Where to remember the last result, keyed by the scanner, the files' contents and the
   * allowlist: a build where nothing changed then neither loads secretlint nor reads a rule.
   */
  cacheFile?: string;
  /**
   * secretlint's findings per file content, kept by a long-lived caller (`dev`) so that an edit
   * scans only the file that changed. Keyed by path and sha256 of the content.
   */
  memo?: Map<string, LintFinding[]>;
}

/** Bump when the scan's own logic changes, so that remembered results are not trusted. */
const SCAN_FORMAT = 1;

/** `@secretlint/secretlint-rule-github` → `github`; Stagecraft's own rule keeps its name. */
export function shortRule(rule: string): string {
  return rule.startsWith(RULE_PREFIX) ? rule.slice(RULE_PREFIX.length) : rule;
}

/** Whether a file is scanned at all: this app's code, not its dependencies. */
export function isScannedSource(file: string): boolean {
  return !file.split(/[\\/]/).includes('node_modules');
}

export interface LintFinding {
  rule: string;
  message: string;
  line: number;
  column: number;
  text: string;
}
type Lint = (file: string, content: string) => Promise<LintFinding[]>;

/**
 * secretlint before 13 profiles every lint whether or not anyone reads it: a performance mark per
 * rule and file, and an observer that scans every mark so far on each one, so a scan's cost grows
 * with the marks of every earlier scan in the process (secretlint#1633; 13 makes it opt-in with
 * `setEnabled`, but needs Node 22). Nothing here reads the profile.
 */
function quietProfiler(profiler: { mark: unknown; setEnabled?: (enabled: boolean) => void }): void {
  if (typeof profiler.setEnabled === 'function') profiler.setEnabled(false);
  else profiler.mark = () => undefined;
}

let loading: Promise<Lint> | undefined;

/**
 * secretlint, loaded once per process on the first build that scans: loading it costs tens of
 * milliseconds, so a build that has functions to bundle starts it while esbuild runs.
 */
export function loadScanner(): Promise<Lint> {
  loading ??= loadSecretlint();
  return loading;
}

async function loadSecretlint(): Promise<Lint> {
  const { lintSource, creator, secretLintProfiler } = await import('./secretlint-api.js');
  quietProfiler(secretLintProfiler);
  const config = {
    rules: [
      {
        id: PRESET,
        rule: creator,
        rules: [
          // An access key id alone is not the secret, but one committed is the half of a pair that gives the other away.
          // Account ids come with the same switch, and are not secret: https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-identifiers.html
          { id: `${RULE_PREFIX}aws`, options: { enableIDScanRule: true }, allowMessageIds: ['AWSAccountID'] },
        ],
      },
    ],
  };
  return async (file, content) => {
    // secretlint's own `secretlint-disable` comments would let a finding through unrecorded (and
    // its preset offers no switch for them): they are defused, at the same length so positions hold.
    const defused = content.replace(/secretlint-(disable|enable)/g, (text) => text.replace('-', '_'));
    const result = await lintSource({
      source: { filePath: file, ext: extname(file), content: defused, contentType: 'text' },
      options: { config, maskSecrets: true },
    });
    return result.messages.map((message) => ({
      rule: message.ruleId,
      message: message.message,
      line: message.loc.start.line,
      column: message.loc.start.column + 1,
      text: content.slice(message.range[0], message.range[1]),
    }));
  };
}

export async function scanForCredentials(options: CredentialScanOptions): Promise<CredentialScan> {
  const targets = [
    ...new Set([...options.files.filter(isScannedSource), ...(options.manifest ? [options.manifest] : [])]),
  ];
  const contents = new Map<string, string>();
  for (const file of targets) {
    const content = readText(join(options.root, file));
    if (content !== undefined) contents.set(file, content);
  }
  const digests = new Map([...contents].map(([file, content]) => [file, sha256Hex(content)]));
  if (options.cacheFile === undefined) return scanContents(contents, digests, options, options.memo ?? new Map());
  const scanner = scannerVersions();
  const key = sha256Hex(
    stableStringify({
      format: SCAN_FORMAT,
      scanner,
      manifest: options.manifest ?? null,
      allow: options.allow ?? [],
      files: [...digests],
    }),
  );
  const remembered = readCache(options.cacheFile);
  if (remembered?.key === key) return remembered.scan;
  // Each file's own findings, by content, from the last scan by this scanner: an edit of one file
  // lints that file alone, and loads secretlint (and yaml) only when something needs them.
  const sameScanner = stableStringify(remembered?.scanner) === stableStringify({ format: SCAN_FORMAT, scanner });
  const memo = new Map(sameScanner ? Object.entries(remembered?.memo ?? {}) : []);
  for (const [memoKey, findings] of options.memo ?? []) memo.set(memoKey, findings);
  const scan = await scanContents(contents, digests, options, memo);
  for (const [memoKey, findings] of memo) options.memo?.set(memoKey, findings);
  const current = new Set(
    [...digests].flatMap(([file, digest]) => [memoKeyOf(file, digest), literalsKeyOf(file, digest)]),
  );
  const next: RememberedScan = {
    key,
    scan,
    scanner: { format: SCAN_FORMAT, scanner },
    memo: Object.fromEntries([...memo].filter(([memoKey]) => current.has(memoKey))),
  };
  replaceCacheFile(options.cacheFile, JSON.stringify(next));
  return scan;
}

/** Where a file's secretlint findings are remembered: by path and content. */
function memoKeyOf(file: string, digest: string): string {
  return `${file}\0${digest}`;
}

/** Where the manifest's literal values under secret-looking keys are remembered. */
function literalsKeyOf(file: string, digest: string): string {
  return `${file}\0${digest}\0literals`;
}

async function scanContents(
  contents: ReadonlyMap<string, string>,
  digests: ReadonlyMap<string, string>,
  options: CredentialScanOptions,
  memo: Map<string, LintFinding[]>,
): Promise<CredentialScan> {
  const raw: CredentialFinding[] = [];
  const texts = new Map<string, string[]>();
  let lint: Lint | undefined;
  for (const [file, content] of contents) {
    texts.set(file, content.split(/\r?\n/));
    const memoKey = memoKeyOf(file, digests.get(file) ?? sha256Hex(content));
    let lintFindings = memo.get(memoKey);
    if (lintFindings === undefined) {
      lint ??= await loadScanner();
      lintFindings = await lint(file, content);
      memo.set(memoKey, lintFindings);
    }
    for (const found of lintFindings) {
      // `${secret:…}` / `${env:…}` in a connection string is a reference, not a password.
      if (/\$\{(secret|env):/.test(found.text)) continue;
      raw.push({ file, line: found.line, column: found.column, rule: found.rule, message: found.message });
    }
  }
  const manifest = options.manifest;
  const manifestText = manifest === undefined ? undefined : contents.get(manifest);
  if (manifest !== undefined && manifestText !== undefined) {
    const memoKey = literalsKeyOf(manifest, digests.get(manifest) ?? sha256Hex(manifestText));
    let literals = memo.get(memoKey);
    if (literals === undefined) {
      literals = (await findSecretLiterals(manifestText)).map((literal) => ({
        rule: CONFIG_LITERAL_RULE,
        message: `literal value under the secret-looking key ${literal.path}; use \${secret:…} or \${env:…} instead`,
        line: literal.line,
        column: literal.column,
        text: '',
      }));
      memo.set(memoKey, literals);
    }
    for (const found of literals) raw.push({ file: manifest, ...found });
  }
  const findings: CredentialFinding[] = [];
  const allowed: AllowedCredential[] = [];
  for (const finding of raw) {
    const how = allowedBy(finding, texts.get(finding.file) ?? [], options.allow ?? []);
    if (how) allowed.push({ file: finding.file, line: finding.line, rule: finding.rule, ...how });
    else findings.push(finding);
  }
  const order = (a: { file: string; line: number }, b: { file: string; line: number }) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line;
  return { findings: findings.sort(order), allowed: dedupe(allowed.sort(order)), files: contents.size };
}

/** The installed secretlint packages: another version may find other things. */
function scannerVersions(): string[] {
  const require = createRequire(import.meta.url);
  return ['@secretlint/core', '@secretlint/secretlint-rule-preset-recommend'].map((name) => {
    const { version } = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as {
      version: string;
    };
    return `${name}@${version}`;
  });
}

interface RememberedScan {
  key: string;
  scan: CredentialScan;
  /** The scanner the memo's findings came from. */
  scanner?: unknown;
  memo?: Record<string, LintFinding[]>;
}

function readCache(path: string): RememberedScan | undefined {
  try {
    const cached = JSON.parse(readFileSync(path, 'utf8')) as RememberedScan;
    return typeof cached.key === 'string' ? cached : undefined;
  } catch {
    return undefined;
  }
}

/** The error that stops the build: one line per finding, `file:line:column rule: message`. */
export function credentialError(findings: readonly CredentialFinding[]): StagecraftError {
  const files = new Set(findings.map((finding) => finding.file)).size;
  return new StagecraftError(
    'CREDENTIAL_FOUND',
    `${findings.length} committed credential(s) in ${files} file(s); nothing was built`,
    {
      details: findings.map(
        (finding) => `${finding.file}:${finding.line}:${finding.column} ${shortRule(finding.rule)}: ${finding.message}`,
      ),
      hint: `move each value out of the code: \`stagecraft secret set <env> NAME\` and \${secret:NAME} in stagecraft.yml, or \${env:NAME}. Not a credential? Put "${ALLOW_MARKER}: <why>" in a comment on its line, or add { file, rule, reason } under credentials.allow in stagecraft.yml`,
    },
  );
}

function allowedBy(
  finding: CredentialFinding,
  lines: readonly string[],
  allow: readonly CredentialAllowEntry[],
): Pick<AllowedCredential, 'allowedBy' | 'reason'> | undefined {
  const here = lines[finding.line - 1] ?? '';
  const above = lines[finding.line - 2] ?? '';
  const comment = here.includes(ALLOW_MARKER)
    ? here
    : /^\s*(\/\/|#|\/?\*|<!--)/.test(above) && above.includes(ALLOW_MARKER)
      ? above
      : undefined;
  if (comment !== undefined) {
    const reason = comment
      .slice(comment.indexOf(ALLOW_MARKER) + ALLOW_MARKER.length)
      .replace(/^[\s:—-]+/, '')
      .replace(/\s*(\*\/|-->)\s*$/, '')
      .trim();
    return { allowedBy: 'comment', reason: reason || '(no reason given)' };
  }
  const entry = allow.find(
    (candidate) =>
      candidate.file === finding.file &&
      (candidate.rule === undefined || candidate.rule === finding.rule || candidate.rule === shortRule(finding.rule)) &&
      (candidate.line === undefined || candidate.line === finding.line),
  );
  return entry && { allowedBy: 'manifest', reason: entry.reason };
}

/** A line may hold two findings of one rule; the release records the line once per rule. */
function dedupe(allowed: AllowedCredential[]): AllowedCredential[] {
  const seen = new Set<string>();
  return allowed.filter((entry) => {
    const key = `${entry.file}:${entry.line}:${entry.rule}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A text file's content; undefined for a file that is gone or binary (a NUL in its first 8 KiB). */
function readText(path: string): string | undefined {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch {
    return undefined;
  }
  return data.subarray(0, 8192).includes(0) ? undefined : data.toString('utf8');
}

import {
  chmodSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { StagecraftError } from '../errors.js';
import {
  ArtifactStore,
  buildArtifacts,
  deterministicZip,
  esbuildBundler,
  type Bundler,
  type FunctionSource,
  type Zipper,
} from './index.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/build/app');

const FUNCTIONS: Record<string, FunctionSource> = {
  api: { handler: 'src/api.handler', runtime: 'nodejs22.x' },
  worker: { handler: 'src/worker.handler', runtime: 'nodejs22.x' },
  esm: { handler: 'src/esm.handler', runtime: 'nodejs22.x' },
  legacy: { handler: 'src/legacy.handler', runtime: 'nodejs20.x' },
  native: { handler: 'function.handler', runtime: 'provided.al2023', code: 'native' },
};

const dirs: string[] = [];
/** A fresh copy of the fixture app in the temp folder, so builds never write into the repo. */
function copyFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-build-'));
  dirs.push(dir);
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * The real esbuild, counting its calls and the functions they bundle (one entry point each): a
 * dependency of buildArtifacts, not a global.
 */
function countingBundler(): Bundler & { calls: number; bundled: number } {
  const real = esbuildBundler();
  const counter = {
    version: real.version,
    calls: 0,
    bundled: 0,
    build: (options: Parameters<Bundler['build']>[0]) => {
      counter.calls += 1;
      counter.bundled += Array.isArray(options.entryPoints) ? options.entryPoints.length : 0;
      return real.build(options);
    },
  };
  return counter;
}

async function build(
  appDir: string,
  functions: Record<string, FunctionSource> = FUNCTIONS,
  bundler: Bundler = countingBundler(),
) {
  return buildArtifacts({ appDir, functions, store: ArtifactStore.forApp(appDir), bundler });
}

const shas = (built: Record<string, { sha256: string }>): Record<string, string> =>
  Object.fromEntries(Object.entries(built).map(([name, artifact]) => [name, artifact.sha256]));

async function failure(run: Promise<unknown>): Promise<StagecraftError> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(StagecraftError);
    return error as StagecraftError;
  }
  throw new Error('expected a StagecraftError');
}

function touchEverything(dir: string, when: Date): void {
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) utimesSync(join(dir, name), when, when);
}

describe('buildArtifacts', () => {
  it('builds every function into a content-addressed artifact', async () => {
    const appDir = copyFixture();
    const bundler = countingBundler();
    const built = await build(appDir, FUNCTIONS, bundler);
    expect(Object.keys(built)).toEqual(['api', 'esm', 'legacy', 'native', 'worker']);
    // One esbuild call for the four Node functions.
    expect(bundler.calls).toBe(1);
    expect(bundler.bundled).toBe(4);
    expect(built.api).toMatchObject({ cached: false, inputs: 3 });
    expect(built.native).toMatchObject({ cached: false, inputs: 3 });
    const store = ArtifactStore.forApp(appDir);
    const files = unzipSync(store.read(built.api?.sha256 ?? ''));
    expect(Object.keys(files).sort()).toEqual(['src/api.mjs', 'src/api.mjs.map']);
    // No absolute path of this machine in the bundle or its source map.
    for (const data of Object.values(files)) expect(Buffer.from(data).toString()).not.toContain(appDir);
    expect(Object.keys(unzipSync(store.read(built.native?.sha256 ?? ''))).sort()).toEqual([
      'bootstrap',
      'function.sh',
      'lib/message.txt',
    ]);
  });

  it('gives the same artifacts from two copies, whatever the file times and the time zone', async () => {
    const first = copyFixture();
    const second = copyFixture();
    touchEverything(second, new Date('2031-07-04T03:21:09Z'));
    const a = await build(first);
    const before = process.env.TZ;
    // Node re-reads the zone when TZ is assigned: the second build runs at UTC+05:45.
    process.env.TZ = 'Asia/Kathmandu';
    try {
      expect(new Date(Date.UTC(2024, 0, 1)).getTimezoneOffset()).toBe(-345);
      expect(shas(await build(second))).toEqual(shas(a));
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
    const c = await build(second);
    rmSync(join(second, '.stagecraft'), { recursive: true });
    expect(shas(await build(second))).toEqual(shas(c));
  });

  it('does not call esbuild at all when nothing changed', async () => {
    const appDir = copyFixture();
    const first = await build(appDir);
    touchEverything(join(appDir, 'src'), new Date('2030-01-01T00:00:00Z'));
    const bundler = countingBundler();
    const again = await build(appDir, FUNCTIONS, bundler);
    expect(bundler.bundled).toBe(0);
    expect(shas(again)).toEqual(shas(first));
    expect(Object.values(again).every((artifact) => artifact.cached)).toBe(true);
    expect(again.api?.inputs).toBe(3);
  });

  it('rebuilds only the function whose own file changed', async () => {
    const appDir = copyFixture();
    const first = await build(appDir);
    writeFileSync(
      join(appDir, 'src/worker.ts'),
      "import { greeting } from './shared.js';\nexport const handler = async () => greeting('queue');\n",
    );
    const bundler = countingBundler();
    const second = await build(appDir, FUNCTIONS, bundler);
    expect(bundler.bundled).toBe(1);
    expect(changed(first, second)).toEqual(['worker']);
  });

  it('rebuilds every user of a shared module that changed, and only them', async () => {
    const appDir = copyFixture();
    const first = await build(appDir);
    writeFileSync(
      join(appDir, 'src/shared.ts'),
      'export function greeting(name: string): string {\n  return `hi ${name}`;\n}\n',
    );
    const bundler = countingBundler();
    const second = await build(appDir, FUNCTIONS, bundler);
    expect(bundler.bundled).toBe(2);
    expect(changed(first, second)).toEqual(['api', 'worker']);
  });

  it('rebuilds after a dependency change recorded only in package.json', async () => {
    const appDir = copyFixture();
    await build(appDir);
    writeFileSync(join(appDir, 'package.json'), '{ "name": "build-fixture", "version": "0.0.1", "type": "module" }\n');
    const bundler = countingBundler();
    const second = await build(appDir, FUNCTIONS, bundler);
    expect(bundler.bundled).toBe(4);
    expect(second.native?.cached).toBe(true);
  });

  it('rebuilds a provided function when a file of its folder is added, edited or loses its executable bit', async () => {
    const appDir = copyFixture();
    const first = await build(appDir);
    writeFileSync(join(appDir, 'native/lib/extra.txt'), 'more\n');
    const added = await build(appDir);
    expect(changed(first, added)).toEqual(['native']);
    chmodSync(join(appDir, 'native/function.sh'), 0o755);
    const executable = await build(appDir);
    expect(changed(added, executable)).toEqual(['native']);
    unlinkSync(join(appDir, 'native/lib/extra.txt'));
    chmodSync(join(appDir, 'native/function.sh'), 0o644);
    expect(shas(await build(appDir))).toEqual(shas(first));
  });

  it('asks for the gate only when a function is built anew, a provided one included', async () => {
    const appDir = copyFixture();
    let asked = 0;
    const run = () =>
      buildArtifacts({
        appDir,
        functions: FUNCTIONS,
        store: ArtifactStore.forApp(appDir),
        beforeBundle: () => {
          asked += 1;
        },
      });
    await run();
    expect(asked).toBe(1);
    await run();
    expect(asked).toBe(1);
    writeFileSync(join(appDir, 'native/lib/extra.txt'), 'more\n');
    const third = await run();
    expect(Object.keys(third).filter((name) => third[name]?.cached === false)).toEqual(['native']);
    expect(asked).toBe(2);
  });

  it('rebuilds when a cached artifact has gone from the store', async () => {
    const appDir = copyFixture();
    const first = await build(appDir);
    const store = ArtifactStore.forApp(appDir);
    unlinkSync(store.pathOf(first.api?.sha256 ?? ''));
    const bundler = countingBundler();
    const second = await build(appDir, FUNCTIONS, bundler);
    expect(bundler.bundled).toBe(1);
    expect(second.api).toMatchObject({ sha256: first.api?.sha256, cached: false });
    expect(store.has(first.api?.sha256 ?? '')).toBe(true);
  });

  it('gives every function the artifact it gets when built alone, in one esbuild call for all', async () => {
    const together = copyFixture();
    const alone = copyFixture();
    // Two exports of one file: their bundles share an outfile, so they cannot share an esbuild call.
    for (const dir of [together, alone]) {
      writeFileSync(
        join(dir, 'src/pair.ts'),
        "import { greeting } from './shared.js';\nexport const left = async () => greeting('left');\nexport const right = async () => greeting('right');\n",
      );
    }
    const functions: Record<string, FunctionSource> = {
      ...FUNCTIONS,
      left: { handler: 'src/pair.left', runtime: 'nodejs22.x' },
      right: { handler: 'src/pair.right', runtime: 'nodejs22.x' },
    };
    const bundler = countingBundler();
    const all = await build(together, functions, bundler);
    expect(bundler.calls).toBe(2);
    expect(bundler.bundled).toBe(6);
    for (const [name, source] of Object.entries(functions)) {
      const one = await build(alone, { [name]: source });
      expect(one[name]?.sha256, name).toBe(all[name]?.sha256);
      expect(one[name]?.inputs, name).toBe(all[name]?.inputs);
    }
    expect(all.left?.sha256).not.toBe(all.right?.sha256);
  });

  it('bundles a large build in a few calls and zips the first artifacts while esbuild makes the rest', async () => {
    const appDir = copyFixture();
    const functions: Record<string, FunctionSource> = {};
    for (let i = 0; i < 20; i += 1) {
      writeFileSync(
        join(appDir, `src/fn${i}.ts`),
        `import { greeting } from './shared.js';\nexport const handler = async () => greeting('${i}');\n`,
      );
      functions[`fn${i}`] = { handler: `src/fn${i}.handler`, runtime: 'nodejs22.x' };
    }
    const events: string[] = [];
    const real = esbuildBundler();
    const bundler: Bundler = {
      version: real.version,
      build: async (options) => {
        events.push('bundle');
        return real.build(options);
      },
    };
    const zipper: Zipper = {
      zip: async (entries) => {
        events.push('zip');
        return deterministicZip(entries);
      },
      close: async () => undefined,
    };
    const store = ArtifactStore.forApp(appDir);
    const built = await buildArtifacts({ appDir, functions, store, bundler, zipper });
    expect(events.filter((event) => event === 'bundle')).toHaveLength(3); // 8 + 8 + 4 functions
    expect(events.filter((event) => event === 'zip')).toHaveLength(20);
    expect(events.indexOf('zip')).toBeLessThan(events.lastIndexOf('bundle'));
    // The same artifacts as each function built alone: a call's other entries change nothing in it.
    const alone = copyFixture();
    for (const name of ['fn0', 'fn9', 'fn19']) {
      cpSync(join(appDir, `src/${name}.ts`), join(alone, `src/${name}.ts`));
      const one = await build(alone, { [name]: functions[name] as FunctionSource });
      expect(one[name]?.sha256, name).toBe(built[name]?.sha256);
    }
  });

  it('still builds and caches the others when one function of the call does not compile', async () => {
    const appDir = copyFixture();
    writeFileSync(join(appDir, 'src/broken.ts'), 'export const handler = async () => {\n  const answer = ;\n};\n');
    const functions = { ...FUNCTIONS, broken: { handler: 'src/broken.handler', runtime: 'nodejs22.x' } };
    const error = await failure(build(appDir, functions));
    expect(error.message).toContain('Function "broken": src/broken.ts:2:18: Unexpected ";"');
    const bundler = countingBundler();
    const again = await build(appDir, FUNCTIONS, bundler);
    expect(bundler.bundled).toBe(0);
    expect(Object.values(again).every((artifact) => artifact.cached)).toBe(true);
  });

  it('produces code that runs: TypeScript, ESM and CommonJS handlers, CommonJS dependencies', async () => {
    const appDir = copyFixture();
    const built = await build(appDir);
    const store = ArtifactStore.forApp(appDir);
    const invoke = (name: string, file: string, event: unknown): unknown =>
      runInNode(join(store.extract(built[name]?.sha256 ?? ''), file), event);
    expect(invoke('api', 'src/api.mjs', { name: 'ada' })).toEqual({
      statusCode: 200,
      body: JSON.stringify({ message: 'HELLO ADA!', where: 'src' }),
    });
    expect(invoke('worker', 'src/worker.mjs', { Records: [{ body: 'x' }] })).toEqual({ processed: ['hello x'] });
    expect(invoke('esm', 'src/esm.mjs', {})).toEqual({ dir: 'src', platform: process.platform });
    expect(invoke('legacy', 'src/legacy.mjs', { text: 'old' })).toEqual({ file: 'legacy.mjs', text: 'OLD!' });
    const native = store.extract(built.native?.sha256 ?? '');
    // Unpacked read-only, the executable bit kept.
    expect(statSync(join(native, 'bootstrap')).mode & 0o777).toBe(0o555);
    expect(statSync(join(native, 'function.sh')).mode & 0o777).toBe(0o444);
  });
});

describe('the build cache index', () => {
  const cacheDir = (appDir: string): string => join(appDir, '.stagecraft', 'cache');
  const indexFile = (appDir: string): string => join(cacheDir(appDir), '.index.json');
  /** Removes every function's own entry, leaving the index (and the file memo) as the only record. */
  const dropEntries = (appDir: string): void => {
    for (const name of readdirSync(cacheDir(appDir))) if (!name.startsWith('.')) rmSync(join(cacheDir(appDir), name));
  };
  const readIndex = (appDir: string) =>
    JSON.parse(readFileSync(indexFile(appDir), 'utf8')) as {
      paths: string[];
      shas: string[];
      functions: Record<string, { inputs: number[]; artifact: { sha256: string } }>;
    };

  it('reuses every unchanged Node function from the index alone, with the sources the entries name', async () => {
    const appDir = copyFixture();
    const first = await build(appDir);
    expect(Object.keys(readIndex(appDir).functions).sort()).toEqual(['api', 'esm', 'legacy', 'worker']);
    dropEntries(appDir);
    const bundler = countingBundler();
    const again = await build(appDir, FUNCTIONS, bundler);
    expect(bundler.bundled).toBe(0);
    expect(shas(again)).toEqual(shas(first));
    expect(again.api).toMatchObject({ cached: true, inputs: 3 });
    // Without the index as well, nothing is left to reuse: every Node function is bundled again.
    rmSync(indexFile(appDir));
    const cold = countingBundler();
    expect(shas(await build(appDir, FUNCTIONS, cold))).toEqual(shas(first));
    expect(cold.bundled).toBe(4);
    // A function taken out of the app leaves the index with what it alone was made of.
    const { legacy, ...rest } = FUNCTIONS;
    expect(legacy).toBeDefined();
    expect(readIndex(appDir).paths).toContain('src/legacy.cjs');
    await build(appDir, rest);
    const after = readIndex(appDir);
    expect(Object.keys(after.functions).sort()).toEqual(['api', 'esm', 'worker']);
    const used = new Set(Object.values(after.functions).flatMap((fn) => fn.inputs.map((id) => after.paths[id])));
    expect(after.paths.filter((path) => !used.has(path))).toEqual([]);
    expect(after.paths).not.toContain('src/legacy.cjs');
  });

  it('rebuilds what an edit touched though the index vouched for it before', async () => {
    const appDir = copyFixture();
    const first = await build(appDir);
    dropEntries(appDir);
    writeFileSync(
      join(appDir, 'src/shared.ts'),
      'export function greeting(name: string): string {\n  return `hey ${name}`;\n}\n',
    );
    const bundler = countingBundler();
    const second = await build(appDir, FUNCTIONS, bundler);
    expect(bundler.bundled).toBe(2);
    expect(changed(first, second)).toEqual(['api', 'worker']);
    // The index now holds the new entries: the next build bundles nothing.
    dropEntries(appDir);
    const third = countingBundler();
    expect(shas(await build(appDir, FUNCTIONS, third))).toEqual(shas(second));
    expect(third.bundled).toBe(0);
  });

  it('never trusts an index that does not hold: damaged, another content, an artifact gone', async () => {
    const appDir = copyFixture();
    const first = await build(appDir);
    const index = readIndex(appDir);
    // Damaged files: not JSON, and an input number out of range. Ignored (each function's own
    // entry serves), then written anew.
    const outOfRange = {
      ...index,
      functions: { ...index.functions, api: { ...index.functions.api, inputs: [99999] } },
    };
    for (const damaged of ['{"format":1,', JSON.stringify(outOfRange)]) {
      writeFileSync(indexFile(appDir), damaged);
      const bundler = countingBundler();
      expect(shas(await build(appDir, FUNCTIONS, bundler))).toEqual(shas(first));
      expect(bundler.bundled).toBe(0);
      expect(readIndex(appDir)).toEqual(index);
    }
    // An input recorded with another content: no function that has it is taken from the index, and
    // with their own entries gone, they are bundled again.
    const apiInput = index.functions.api?.inputs[0] ?? -1;
    const tampered = structuredClone(index);
    tampered.shas[apiInput] = '0'.repeat(64);
    writeFileSync(indexFile(appDir), JSON.stringify(tampered));
    dropEntries(appDir);
    const bundler = countingBundler();
    expect(shas(await build(appDir, FUNCTIONS, bundler))).toEqual(shas(first));
    const users = Object.values(index.functions).filter((fn) => fn.inputs.includes(apiInput));
    expect(users.length).toBeGreaterThan(0);
    expect(bundler.bundled).toBe(users.length);
    // An artifact the index names that is not in the store: built again, to the same artifact.
    const gone = readIndex(appDir);
    if (gone.functions.esm) gone.functions.esm.artifact.sha256 = 'f'.repeat(64);
    writeFileSync(indexFile(appDir), JSON.stringify(gone));
    dropEntries(appDir);
    const third = await build(appDir);
    expect(third.esm).toMatchObject({ sha256: first.esm?.sha256, cached: false });
    expect(third.api).toMatchObject({ sha256: first.api?.sha256, cached: true });
  });
});

describe('buildArtifacts errors', () => {
  it('reports a syntax error as BUILD_FAILED at file:line:column', async () => {
    const appDir = copyFixture();
    writeFileSync(join(appDir, 'src/broken.ts'), 'export const handler = async () => {\n  const answer = ;\n};\n');
    const error = await failure(build(appDir, { broken: { handler: 'src/broken.handler', runtime: 'nodejs22.x' } }));
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.message).toContain('src/broken.ts:2:18: Unexpected ";"');
    expect(error.message).toContain('"broken"');
    expect(error.hint).toContain('src/broken.ts');
  });

  it('names the paths it tried when the handler file is missing', async () => {
    const error = await failure(build(copyFixture(), { gone: { handler: 'src/gone.handler', runtime: 'nodejs22.x' } }));
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.message).toContain('src/gone.ts, src/gone.mts, src/gone.cts, src/gone.js, src/gone.mjs, src/gone.cjs');
  });

  it('reports a handler file without the named export', async () => {
    const error = await failure(build(copyFixture(), { api: { handler: 'src/api.main', runtime: 'nodejs22.x' } }));
    expect(error.message).toContain('src/api.ts: No matching export in "src/api.ts" for import "main"');
    expect(error.hint).toContain('export "main"');
  });

  it('refuses a bundle that embeds an absolute path of the machine', async () => {
    const appDir = copyFixture();
    const real = esbuildBundler();
    const leaky: Bundler = {
      version: real.version,
      async build(options) {
        const output = await real.build(options);
        const outputFiles = output.outputFiles.map((file) => {
          const text = `${file.text}\n// built from ${appDir}/src/api.ts\n`;
          return { path: file.path, text, contents: new TextEncoder().encode(text) };
        });
        return { metafile: output.metafile, outputFiles };
      },
    };
    const error = await failure(build(appDir, { api: FUNCTIONS.api as FunctionSource }, leaky));
    expect(error.message).toContain(`absolute path "${appDir}/src/`);
  });

  it('needs an executable bootstrap in a provided function folder', async () => {
    const appDir = copyFixture();
    chmodSync(join(appDir, 'native/bootstrap'), 0o644);
    const error = await failure(build(appDir, { native: FUNCTIONS.native as FunctionSource }));
    expect(error.message).toContain('not executable');
    expect(error.hint).toContain('chmod +x');
  });

  it('builds the functions that can be built and reports every one that cannot', async () => {
    const appDir = copyFixture();
    const error = await failure(
      build(appDir, {
        ...FUNCTIONS,
        gone: { handler: 'src/gone.handler', runtime: 'nodejs22.x' },
        odd: { handler: 'x.y', runtime: 'python3.13' },
      }),
    );
    expect(error.message).toBe('2 functions failed to build: gone, odd.');
    expect(error.details).toHaveLength(2);
    const bundler = countingBundler();
    await build(appDir, FUNCTIONS, bundler);
    expect(bundler.bundled).toBe(0);
  });
});

/**
 * Imports the bundle with import() in a plain Node process, as Lambda's runtime does, and calls
 * its handler: vitest's own module loader would transform the file first.
 */
function runInNode(file: string, event: unknown): unknown {
  const script = [
    'const [file, event] = process.argv.slice(1);',
    "const { pathToFileURL } = await import('node:url');",
    'const { handler } = await import(pathToFileURL(file).href);',
    'process.stdout.write(JSON.stringify(await handler(JSON.parse(event))));',
  ].join('\n');
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script, file, JSON.stringify(event)], {
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as unknown;
}

function changed(before: Record<string, { sha256: string }>, after: Record<string, { sha256: string }>): string[] {
  return Object.keys(after).filter((name) => before[name]?.sha256 !== after[name]?.sha256);
}

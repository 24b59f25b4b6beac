// Where a running `stagecraft up` serves, as the local provider tells smoke tests: a real admin
// endpoint on a loopback port, a real up.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { upGatewayUrl, writeUpFile } from './up-file.js';

const scratch = mkdtempSync(join(tmpdir(), 'stagecraft-up-file-'));
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  rmSync(scratch, { recursive: true, force: true });
});

/** An admin endpoint answering `POST /api/sync` with `status`; counts the syncs. */
async function admin(status: number): Promise<{ url: string; syncs: () => number }> {
  let syncs = 0;
  const server = createServer((request, response) => {
    if (request.method === 'POST' && request.url === '/api/sync') syncs += 1;
    response.writeHead(status).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}`, syncs: () => syncs };
}

let apps = 0;
function appWithUp(pid: number, adminUrl: string): string {
  const appDir = join(scratch, `app-${(apps += 1)}`);
  mkdirSync(join(appDir, '.stagecraft'), { recursive: true });
  writeUpFile(appDir, { pid, admin: adminUrl, environments: [{ name: 'dev', url: 'http://127.0.0.1:4601' }] });
  return appDir;
}

describe('upGatewayUrl', () => {
  it("gives a live up's gateway for the environment once up has synced its aliases", async () => {
    const { url, syncs } = await admin(200);
    const appDir = appWithUp(process.pid, url);
    expect(await upGatewayUrl(appDir, 'dev')).toBe('http://127.0.0.1:4601');
    expect(syncs()).toBe(1);
    expect(await upGatewayUrl(appDir, 'prod')).toBeUndefined();
  });

  it('gives nothing for an up that is gone, that cannot sync, or that never ran', async () => {
    const { url } = await admin(200);
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    expect(await upGatewayUrl(appWithUp(gone, url), 'dev')).toBeUndefined();
    const failing = await admin(500);
    expect(await upGatewayUrl(appWithUp(process.pid, failing.url), 'dev')).toBeUndefined();
    expect(failing.syncs()).toBe(1);
    expect(await upGatewayUrl(join(scratch, 'no-such-app'), 'dev')).toBeUndefined();
  });
});

/**
 * The state database's way back: verified, rotating backups before every alias-changing
 * command; an emptied database is refused (exit 2), a corrupt one is a clear error (exit 1)
 * naming the newest good backup; `state restore` brings it back and doctor is clean.
 */
import {
  existsSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

interface BackupList {
  backups: { file: string; reason: string; good: boolean }[];
}

describe('state backups', () => {
  const app = copyApp('basic');
  afterAll(() => app.remove());
  const db = join(app.dir, '.stagecraft', 'state.db');
  const cli = (...args: string[]) => runCli([...args, '--dir', app.dir]);
  const status = async () => {
    const result = await cli('status', '--json');
    expect(result.code, result.stderr).toBe(0);
    return result.json<{ environments: unknown[] }>().environments;
  };
  let healthy: unknown;

  it('takes a verified backup before every deploy, promote, approve and rollback, and on demand', async () => {
    expect((await cli('build')).code).toBe(0);
    expect((await cli('deploy', 'dev')).code).toBe(0);
    expect((await cli('deploy', 'staging')).code).toBe(0);
    const listed = (await cli('state', 'list', '--json')).json<BackupList>();
    expect(listed.backups.map((backup) => [backup.reason, backup.good])).toEqual([
      ['deploy', true],
      ['deploy', true],
    ]);
    const manual = await cli('state', 'backup', '--json');
    expect(manual.code, manual.stderr).toBe(0);
    expect((await cli('state', 'list', '--json')).json<BackupList>().backups[0]).toMatchObject({
      reason: 'manual',
      good: true,
    });
    healthy = await status();
    expect(existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0).toBe(0);
  }, 60_000);

  it('an emptied database is refused (exit 2) with the way back, doctor finds it, and restore brings it back', async () => {
    writeFileSync(db, '');
    const refused = await cli('status');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /the state database .*state\.db is empty, but this app was used before \(.stagecraft\/artifacts holds artifacts/,
    );
    expect(refused.stderr).toMatch(/stagecraft state restore/);
    const deploy = await cli('deploy', 'dev');
    expect(deploy.code).toBe(2);
    expect(statSync(db).size).toBe(0);
    const doctor = await cli('doctor');
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/FAIL +state +the state database .* is empty/);
    const restored = await cli('state', 'restore');
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/restored .*state-\d{8}T\d{9}Z-manual\.db/);
    expect(await status()).toEqual(healthy);
    expect((await cli('doctor')).code).toBe(0);
  }, 60_000);

  const corruptions: Record<string, () => void> = {
    truncated: () => truncateSync(db, Math.floor(statSync(db).size / 2)),
    'garbage header': () => overwrite(0, 100),
    'garbage mid-file': () => overwrite(Math.floor(statSync(db).size / 2 / 4096) * 4096, 8192),
  };
  const overwrite = (at: number, length: number) => {
    const fd = openSync(db, 'r+');
    writeSync(fd, randomBytes(length), 0, length, at);
    closeSync(fd);
  };

  for (const [kind, corrupt] of Object.entries(corruptions)) {
    it(`a database with a ${kind} is a clear error naming the newest good backup; restore; doctor is clean`, async () => {
      expect(statSync(db).size).toBeGreaterThan(8192 * 3);
      const before = readFileSync(db);
      corrupt();
      expect(readFileSync(db).equals(before)).toBe(false);
      const broken = await cli('status');
      expect(broken.code, broken.stderr).toBe(1);
      expect(broken.stderr).not.toMatch(/internal error|This is a bug/);
      expect(broken.stderr).toMatch(/error: the state database .*state\.db is corrupt/);
      expect(broken.stderr).toMatch(
        /hint: restore the newest good backup, .*state-\d{8}T\d{9}Z-manual\.db \(taken .*\): `stagecraft state restore`; what was recorded after .* is lost/,
      );
      const doctor = await cli('doctor', '--json');
      expect(doctor.code).toBe(1);
      expect(doctor.json()).toMatchObject({ ok: false, checks: [{ name: 'state', status: 'fail' }] });
      const restored = await cli('state', 'restore');
      expect(restored.code, restored.stderr).toBe(0);
      expect(restored.stdout).toMatch(/the replaced database is kept as .*replaced-/);
      const doctorAfter = await cli('doctor');
      expect(doctorAfter.code, doctorAfter.stdout).toBe(0);
      expect(await status()).toEqual(healthy);
    }, 60_000);
  }
});

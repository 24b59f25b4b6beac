/**
 * Small facts about the state database itself (the `meta` table of migration 1): e.g. how far
 * its ledger has been copied to a shared state table. Not state changes, so not in the ledger.
 */
import type { Database } from 'better-sqlite3';

export class MetaRepo {
  constructor(private readonly db: Database) {}

  get(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  set(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }
}

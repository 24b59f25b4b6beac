/**
 * better-sqlite3, loaded with `require`: it is CommonJS, and Node's ES module loader would first
 * scan its source for named exports (cjs-module-lexer) and resolve it through the ESM resolver —
 * about 10 ms of every command's start, for a default export only.
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

export const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
export type Database = BetterSqlite3.Database;

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { LogVersionError } from './errors.js';

/** One numbered SQL file of `migrations/`. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

// src/log/ and dist/log/ are both two levels below the package root, where migrations/ lives.
const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

let cached: readonly Migration[] | undefined;

/**
 * The schema migrations shipped with this build, in order. File `NNN-name.sql` upgrades the
 * schema from version NNN-1 to NNN.
 *
 * @example
 * ```ts
 * const latest = loadMigrations().at(-1)!.version;
 * ```
 */
export function loadMigrations(): readonly Migration[] {
  if (cached) return cached;
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d+-.*\.sql$/.test(f)).sort();
  const list = files.map((f, i) => {
    const version = Number.parseInt(f, 10);
    // A gap would leave a log at a version no build can describe.
    if (version !== i + 1) throw new Error(`migrations/${f}: expected version ${i + 1}`);
    return { version, name: f, sql: readFileSync(MIGRATIONS_DIR + f, 'utf8') };
  });
  cached = list;
  return list;
}

/** The schema version this build writes. */
export function latestSchemaVersion(): number {
  return loadMigrations().length;
}

/**
 * Brings a writable database up to the latest schema, each migration inside a transaction.
 * A database from a newer build is refused before anything is touched.
 *
 * @example
 * ```ts
 * migrate(db); // no-op when already current
 * ```
 */
export function migrate(db: Database.Database, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  checkNotNewer(current, path);
  for (const m of loadMigrations()) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}

/** Throws `LogVersionError` when `version` is newer than this build knows. */
export function checkNotNewer(version: number, path: string): void {
  const latest = latestSchemaVersion();
  if (version > latest) {
    throw new LogVersionError(
      `${path} has log schema version ${version}, but this trainledger reads up to version ${latest}; upgrade trainledger to open it`,
    );
  }
}

import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { LogCorruptError, LogVersionError, NotALogError } from './log-errors.js';
import { checkNotNewer, latestSchemaVersion, migrate } from './migrations.js';
import { TrainledgerError } from '../errors/trainledger-error.js';

/** The file to open does not exist. */
export class LogNotFoundError extends TrainledgerError {
  constructor(path: string) {
    super('ERR_LOG_NOT_FOUND', `no trainledger log at ${path}: the file does not exist`);
  }
}

const SQLITE_MAGIC = 'SQLite format 3\0';

/**
 * Turns better-sqlite3's errors about the file itself into our typed errors.
 *
 * @example
 * ```ts
 * try { db.prepare('...').all() } catch (e) { throw wrapSqliteError(e, path) }
 * ```
 */
export function wrapSqliteError(e: unknown, path: string): unknown {
  const code = (e as { code?: string }).code;
  if (code === 'SQLITE_NOTADB') return new NotALogError(`${path} is not a trainledger log: not a SQLite database`, { cause: e });
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_CORRUPT_VTAB')
    return new LogCorruptError(`${path} is damaged (SQLite: ${(e as Error).message})`, { cause: e });
  return e;
}

// A truncated file is only noticed by SQLite when a missing page is read; the header says how
// long the file must be, so check it up front and fail with a clear error on open.
function checkHeader(path: string): void {
  const size = statSync(path).size;
  if (size === 0) return; // a new, empty file: SQLite initializes it
  const fd = openSync(path, 'r');
  const header = Buffer.alloc(100);
  let n: number;
  try {
    n = readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (n < 100 || header.toString('latin1', 0, 16) !== SQLITE_MAGIC) {
    throw new NotALogError(`${path} is not a trainledger log: not a SQLite database (${size} bytes, no SQLite header)`);
  }
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pages = header.readUInt32BE(28);
  const validFor = header.readUInt32BE(92);
  const changeCounter = header.readUInt32BE(24);
  if (pages > 0 && validFor === changeCounter && size < pages * pageSize) {
    throw new LogCorruptError(`${path} is truncated: ${size} bytes, but its header says ${pages} pages of ${pageSize} bytes`);
  }
}

export interface OpenOptions {
  /** Open for reading only (the default for readers): nothing is ever written. */
  readonly readonly?: boolean;
  /** Create the file when missing (writers). */
  readonly create?: boolean;
}

/**
 * Opens (and for writers creates or upgrades) a log database, checking that it is a trainledger
 * log of a schema this build reads.
 *
 * @example
 * ```ts
 * const db = openLogDatabase('runs/demo.sqlite', { create: true });
 * ```
 */
export function openLogDatabase(path: string, options: OpenOptions = {}): Database.Database {
  const readonly = options.readonly ?? false;
  if (!existsSync(path) && (readonly || !options.create)) throw new LogNotFoundError(path);
  if (existsSync(path)) checkHeader(path);
  else mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path, { readonly, fileMustExist: readonly || !options.create });
  } catch (e) {
    throw wrapSqliteError(e, path);
  }
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (readonly) {
      checkNotNewer(version, path);
      if (version === 0) throw new NotALogError(`${path} is a SQLite database but not a trainledger log (no log schema)`);
    } else {
      db.pragma('busy_timeout = 10000');
      if (version === 0) {
        const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
        if (tables.n > 0) throw new NotALogError(`${path} is a SQLite database but not a trainledger log (it has other tables)`);
        db.pragma('journal_mode = WAL');
      }
      migrate(db, path);
      if (version === 0) {
        db.prepare("INSERT INTO meta (key, value) VALUES ('format', 'trainledger'), ('log_id', ?)").run(randomUUID());
      }
    }
    const format = db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as { value: string } | undefined;
    if (format?.value !== 'trainledger') throw new NotALogError(`${path} is a SQLite database but not a trainledger log (no format marker)`);
    return db;
  } catch (e) {
    db.close();
    if (e instanceof TrainledgerError) throw e;
    const wrapped = wrapSqliteError(e, path);
    if (wrapped !== e) throw wrapped;
    if ((e as { code?: string }).code === 'SQLITE_ERROR' && /no such table: meta/.test((e as Error).message)) {
      throw new NotALogError(`${path} is a SQLite database but not a trainledger log (no meta table)`, { cause: e });
    }
    throw e;
  }
}

export { latestSchemaVersion, LogVersionError };

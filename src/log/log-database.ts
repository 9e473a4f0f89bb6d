import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { LogCorruptError, LogNotFoundError, LogVersionError, NotALogError } from './errors.js';
import { checkNotNewer, latestSchemaVersion, migrate } from './migrations.js';
import { readHead } from '../util/read-head.js';
import { TrainledgerError } from '../errors/trainledger-error.js';

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
    return new LogCorruptError(`${path} is damaged (SQLite: ${(e as Error).message})${truncation(path)}`, { cause: e });
  return e;
}

/**
 * Why SQLite may have found the file damaged, when it is a cut-off main file. Only a hint for the
 * message: SQLite decides (it counts the WAL's pages too, which a look at the header alone cannot).
 */
function truncation(path: string): string {
  try {
    const header = readHeader(path);
    if (header === null || walFrames(path)) return '';
    const rawPageSize = header.readUInt16BE(16);
    const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
    const pages = header.readUInt32BE(28);
    const size = statSync(path).size;
    return size < pages * pageSize ? `: it is truncated: ${size} bytes, but its header says ${pages} pages of ${pageSize} bytes` : '';
  } catch {
    return '';
  }
}

// A WAL of more than its 32-byte header holds pages that count as part of the database.
function walFrames(path: string): boolean {
  return existsSync(`${path}-wal`) && statSync(`${path}-wal`).size > 32;
}

function readHeader(path: string): Buffer | null {
  const header = readHead(path, 100);
  return header.length === 100 ? header : null;
}

// Refuses what is plainly not a log before SQLite sees it: SQLite would take an empty file or a
// directory for a new database. Damage inside a real SQLite file is SQLite's to find, on open.
function checkIsSqlite(path: string, readonly: boolean): void {
  const st = statSync(path);
  if (st.isDirectory()) throw new NotALogError(`${path} is a directory, not a trainledger log file`);
  if (st.size === 0) {
    // A writer may start a log in an empty file (nothing there to lose); a reader has nothing to read.
    if (readonly) throw new NotALogError(`${path} is not a trainledger log: it is an empty file (0 bytes)`);
    return;
  }
  const header = readHeader(path);
  if (header === null || header.toString('latin1', 0, 16) !== SQLITE_MAGIC) {
    throw new NotALogError(`${path} is not a trainledger log: not a SQLite database (${st.size} bytes, no SQLite header)`);
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
 * const { db } = openLogDatabase('runs/demo.sqlite', { create: true });
 * ```
 */
export function openLogDatabase(path: string, options: OpenOptions = {}): OpenedLog {
  const readonly = options.readonly ?? false;
  if (!existsSync(path) && (readonly || !options.create)) throw new LogNotFoundError(path);
  if (existsSync(path)) checkIsSqlite(path, readonly);
  else mkdirSync(dirname(path), { recursive: true });
  if (!readonly) return { db: checkedOpen(path, path, false, options.create ?? false), privateCopy: null };
  try {
    return { db: checkedOpen(path, path, true, false), privateCopy: null };
  } catch (e) {
    if (!CANNOT_SHARE.has((e as { cause?: { code?: string } }).cause?.code ?? (e as { code?: string }).code ?? '')) throw e;
  }
  // A WAL-mode log is read through a `-shm` file beside it, which a read-only folder cannot hold
  // (SQLite then cannot open it at all): read a private copy of the log and its WAL instead.
  const copy = privateCopy(path);
  try {
    return { db: checkedOpen(join(copy, 'log.sqlite'), path, true, false), privateCopy: copy };
  } catch (e) {
    removePrivateCopy(copy);
    throw e;
  }
}

/** SQLite's answers when the folder of a WAL log cannot hold the shared-memory file. */
const CANNOT_SHARE = new Set(['SQLITE_CANTOPEN', 'SQLITE_READONLY_CANTINIT', 'SQLITE_READONLY_DIRECTORY', 'SQLITE_IOERR_LOCK', 'SQLITE_READONLY']);
const COPIED = ['log.sqlite', 'log.sqlite-wal', 'log.sqlite-shm'] as const;

/** An open log database; `privateCopy` is the temp folder it was read from, if it had to be copied. */
export interface OpenedLog {
  readonly db: Database.Database;
  readonly privateCopy: string | null;
}

function privateCopy(path: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'trainledger-readonly-'));
  try {
    copyFileSync(path, join(dir, COPIED[0]));
    if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, join(dir, COPIED[1]));
  } catch (e) {
    removePrivateCopy(dir);
    throw e;
  }
  return dir;
}

/**
 * Removes a folder made by `privateCopy`: only the files it can hold, then the folder.
 *
 * @example
 * ```ts
 * removePrivateCopy(opened.privateCopy);
 * ```
 */
export function removePrivateCopy(dir: string): void {
  for (const f of COPIED) rmSync(join(dir, f), { force: true });
  rmdirSync(dir);
}

function checkedOpen(file: string, path: string, readonly: boolean, create: boolean): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly, fileMustExist: readonly || !create });
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

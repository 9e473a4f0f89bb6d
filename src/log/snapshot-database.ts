import Database from 'better-sqlite3';
import { existsSync, rmSync, statSync } from 'node:fs';

/**
 * Cache file format, kept in its `user_version`: a cache of another format is deleted and
 * rebuilt. 2: samples stored in blocks aligned with the histories' chunks, read back without
 * a copy. 3: a checksum on every snapshot and block (a damaged one is ignored, never read).
 * 4: blocks compressed (`snapshot-block-codec.ts`).
 */
const FORMAT = 4;
/** Marks a file as a trainledger snapshot cache (`PRAGMA application_id`, "tlsc"). */
const APPLICATION_ID = 0x746c7363;
/** SQLite's page cache of a cache connection, in KiB (SQLite's own default; better-sqlite3 sets 16 MB). */
export const PAGE_CACHE_KIB = 2000;

/**
 * Opens the snapshot cache database at `path` for the log `logId`: creates it, or starts it
 * over when it holds another format, and drops what it holds of another log. Returns null when
 * the file there is not a cache this project made (it is never touched); throws when it cannot
 * be opened or written.
 *
 * @example
 * ```ts
 * const db = openSnapshotDatabase('runs/x.sqlite.snapshots', logId);
 * ```
 */
export function openSnapshotDatabase(path: string, logId: string): Database.Database | null {
  // Never touch a file this project did not make: a stranger at the cache's path means no cache.
  if (existsSync(path) && ownership(path) === 'foreign') return null;
  let db = new Database(path);
  db.pragma('busy_timeout = 10000');
  if (db.pragma('user_version', { simple: true }) !== FORMAT) {
    const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
    if (tables > 0) {
      // Our cache in an older format: start over, so the page size below applies.
      db.close();
      for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
      db = new Database(path);
      db.pragma('busy_timeout = 10000');
    }
    // Big pages: a block (48 KiB at most, when it does not compress) fits in one, read in place.
    db.pragma('page_size = 65536');
    db.pragma('journal_mode = WAL');
    // Several readers may build the cache at once: one creates the tables, the others find them.
    db.transaction(() => {
      db.exec(`CREATE TABLE IF NOT EXISTS snapshots (
        log_id TEXT NOT NULL, run_id INTEGER NOT NULL, seq INTEGER NOT NULL, iter INTEGER NOT NULL,
        parent_seq INTEGER, header TEXT NOT NULL, info TEXT NOT NULL, crc INTEGER NOT NULL,
        PRIMARY KEY (log_id, run_id, seq)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS blocks (
        id INTEGER PRIMARY KEY, log_id TEXT NOT NULL, run_id INTEGER NOT NULL, seq INTEGER NOT NULL,
        series INTEGER NOT NULL, block INTEGER NOT NULL, lo INTEGER NOT NULL, vals BLOB NOT NULL, iters BLOB NOT NULL,
        crc INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS blocks_of_snapshot ON blocks (log_id, run_id, seq, series, block);`);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${FORMAT}`);
    }).immediate();
  } else {
    db.pragma('journal_mode = WAL');
  }
  db.pragma('synchronous = OFF'); // a cache: losing it costs only time, and checksums catch damage
  // Each block is written once and read once, so caching pages buys nothing: a bigger page cache
  // doubled a cold replay's RSS (malloc heap), and a memory map adds the file read to a warm one's.
  db.pragma(`cache_size = ${-PAGE_CACHE_KIB}`);
  db.pragma('mmap_size = 0');
  // A cache from another log that had this path is useless: drop it. Looked for in the
  // small table first: deleting from the blocks table scans every block.
  if (db.prepare('SELECT 1 FROM snapshots WHERE log_id != ? LIMIT 1').get(logId) !== undefined) {
    db.transaction(() => {
      db.prepare('DELETE FROM snapshots WHERE log_id != ?').run(logId);
      db.prepare('DELETE FROM blocks WHERE log_id != ?').run(logId);
    }).immediate();
  }
  return db;
}

/**
 * Whether the file at `path` is a snapshot cache this project made: marked with our
 * application id, or an unmarked cache of format 1 or 2 (our tables and nothing else), or one
 * still empty.
 */
function ownership(path: string): 'ours' | 'foreign' {
  // Empty, or no tables yet: another reader is creating the cache this moment; nothing to lose.
  if (statSync(path).size === 0) return 'ours';
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch {
    return 'foreign';
  }
  try {
    if (db.pragma('application_id', { simple: true }) === APPLICATION_ID) return 'ours';
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]).join(',');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (tables === '') return 'ours';
    const ourTables = tables === 'blocks,snapshots' || tables === 'snapshots';
    const logId = (db.prepare("SELECT count(*) FROM pragma_table_info('snapshots') WHERE name = 'log_id'").pluck().get() as number) === 1;
    return ourTables && logId && version <= 2 ? 'ours' : 'foreign';
  } catch {
    return 'foreign';
  } finally {
    db.close();
  }
}

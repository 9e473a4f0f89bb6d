import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import { RunLiveError } from './errors.js';
import { processIsAlive } from '../util/process-alive.js';

/** Heartbeats older than this mean the writer is gone (when its pid cannot be checked). */
export const LEASE_TIMEOUT_SECONDS = 15;
/** How often a live writer refreshes its heartbeat: well within the timeout. */
const HEARTBEAT_EVERY_MS = 2000;

export interface Lease {
  readonly pid: number;
  readonly hostname: string;
  readonly heartbeat: number;
}

/**
 * Whether a lease belongs to a live writer: on this host, by its pid; elsewhere, by its heartbeat.
 *
 * @example
 * ```ts
 * leaseIsLive(readLease(db, runId));
 * ```
 */
export function leaseIsLive(lease: Lease | undefined, now = Date.now() / 1000): boolean {
  if (lease === undefined) return false;
  if (lease.hostname === hostname()) return lease.pid === process.pid || processIsAlive(lease.pid);
  return now - lease.heartbeat < LEASE_TIMEOUT_SECONDS;
}

export function readLease(db: Database.Database, runId: number): Lease | undefined {
  return db.prepare('SELECT pid, hostname, heartbeat FROM writer_leases WHERE run_id = ?').get(runId) as Lease | undefined;
}

/**
 * Takes the lease of a run for this process, refusing (RunLiveError) if a live writer holds it.
 * A stale lease (a crashed writer) is taken over.
 */
export function acquireLease(db: Database.Database, runId: number): void {
  db.transaction(() => {
    const current = readLease(db, runId);
    if (current !== undefined && current.pid !== process.pid && leaseIsLive(current)) throw new RunLiveError(runId, current);
    const now = Date.now() / 1000;
    db.prepare('INSERT OR REPLACE INTO writer_leases (run_id, pid, hostname, started, heartbeat) VALUES (?, ?, ?, ?, ?)').run(runId, process.pid, hostname(), now, now);
  }).immediate();
}

/**
 * The heartbeat of this process's lease on a run: call it as often as you like, it refreshes
 * the lease at most every `HEARTBEAT_EVERY_MS`.
 *
 * @example
 * ```ts
 * const beat = leaseHeartbeat(db, runId);
 * for (;;) { beat(); commitWhatArrived(); }
 * ```
 */
export function leaseHeartbeat(db: Database.Database, runId: number): () => void {
  const update = db.prepare('UPDATE writer_leases SET heartbeat = ? WHERE run_id = ? AND pid = ?');
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < HEARTBEAT_EVERY_MS) return;
    last = now;
    try {
      update.run(now / 1000, runId, process.pid);
    } catch {
      // A busy database delays a heartbeat; the next one retries.
    }
  };
}

/** Gives up this process's lease on a run (its writer closes). */
export function releaseLease(db: Database.Database, runId: number): void {
  try {
    db.prepare('DELETE FROM writer_leases WHERE run_id = ? AND pid = ?').run(runId, process.pid);
  } catch {
    // Left behind, the lease is recognised as stale: its pid is gone.
  }
}

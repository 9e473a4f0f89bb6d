import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import { TrainledgerError } from '../errors/trainledger-error.js';
import { processIsAlive } from '../util/process-alive.js';

/** Heartbeats older than this mean the writer is gone (when its pid cannot be checked). */
export const LEASE_TIMEOUT_SECONDS = 15;

/** Another process is appending to this run right now. */
export class RunLiveError extends TrainledgerError {
  constructor(runId: number, lease: Lease) {
    super(
      'ERR_RUN_LIVE',
      `run ${runId} is being written by process ${lease.pid} on ${lease.hostname} (heartbeat ${Math.round(Date.now() / 1000 - lease.heartbeat)} s ago); a run has one writer at a time`,
    );
  }
}

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

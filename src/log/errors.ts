import { TrainledgerError } from '../errors/trainledger-error.js';
import type { Lease } from './run-lease.js';

/** The file is not a SQLite database, or is a SQLite database that trainledger did not create. */
export class NotALogError extends TrainledgerError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_NOT_A_LOG', message, options);
  }
}

/** The log is damaged: truncated, or a record that cannot be decoded. */
export class LogCorruptError extends TrainledgerError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_LOG_CORRUPT', message, options);
  }
}

/** The log was written by a newer trainledger (schema or event version) than this build reads. */
export class LogVersionError extends TrainledgerError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_LOG_VERSION', message, options);
  }
}

/** A run that does not exist in the log was asked for. */
export class UnknownRunError extends TrainledgerError {
  constructor(message: string) {
    super('ERR_UNKNOWN_RUN', message);
  }
}

/** Appending to the log failed (disk full, read-only file...); what was committed before is intact. */
export class LogWriteError extends TrainledgerError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_LOG_WRITE', message, options);
  }
}

/**
 * A metric writer running on the log's commit thread failed (its file could not be written,
 * say). The log itself is intact: its commits do not depend on the writers.
 */
export class ProjectionWriteError extends TrainledgerError {
  constructor(message: string) {
    super('ERR_PROJECTION_WRITE', message);
  }
}

/** The log is closed, or opened read-only, and a write was attempted. */
export class LogClosedError extends TrainledgerError {
  constructor(message: string) {
    super('ERR_LOG_CLOSED', message);
  }
}

/** Another process is appending to this run right now. */
export class RunLiveError extends TrainledgerError {
  constructor(runId: number, lease: Lease) {
    super(
      'ERR_RUN_LIVE',
      `run ${runId} is being written by process ${lease.pid} on ${lease.hostname} (heartbeat ${Math.round(Date.now() / 1000 - lease.heartbeat)} s ago); a run has one writer at a time`,
    );
  }
}

/** The file to open does not exist. */
export class LogNotFoundError extends TrainledgerError {
  constructor(path: string) {
    super('ERR_LOG_NOT_FOUND', `no trainledger log at ${path}: the file does not exist`);
  }
}

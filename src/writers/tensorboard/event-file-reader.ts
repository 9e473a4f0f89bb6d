import { readFileSync } from 'node:fs';
import type { TfEvent } from './tf-event.js';
import { decodeTfEvent } from './tf-event-codec.js';
import { TfEventsFormatError } from './errors.js';
import { TF_RECORD_HEADER_SIZE, readTfRecords } from './tf-record.js';

/**
 * Decodes every event of an event file held in memory. Throws {@link TfEventsFormatError} on
 * a truncated or corrupt record (CRC mismatch) or an undecodable event; offsets are positions in
 * `bytes`.
 *
 * @example
 * ```ts
 * const events = decodeEventFile(readFileSync(path));
 * ```
 */
export function decodeEventFile(bytes: Uint8Array): TfEvent[] {
  const events: TfEvent[] = [];
  for (const record of readTfRecords(bytes)) {
    events.push(decodeTfEvent(record.data, record.offset + TF_RECORD_HEADER_SIZE));
  }
  return events;
}

/**
 * Reads and decodes every event of the event file at `path`, verifying each record's CRCs.
 * Format problems throw {@link TfEventsFormatError} whose message names the file and offset.
 *
 * @example
 * ```ts
 * const scalars = readEventFile(path).filter((e) => e.kind === 'summary');
 * ```
 */
export function readEventFile(path: string): TfEvent[] {
  const bytes = readFileSync(path);
  try {
    return decodeEventFile(bytes);
  } catch (error) {
    if (!(error instanceof TfEventsFormatError)) throw error;
    throw new TfEventsFormatError(error.reason, error.offset, `event file ${JSON.stringify(path)}: ${error.message}`, {
      cause: error,
    });
  }
}

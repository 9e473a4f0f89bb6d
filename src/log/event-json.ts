import { LogCorruptError } from './errors.js';
import type { TrainEvent } from '../events/train-event.js';

const textDecoder = new TextDecoder();

// Rare events may carry non-finite numbers (a failed eval, a histogram of NaNs) or -0: JSON has
// no token for them, so they are boxed and unboxed by the reviver below.
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0))) {
    return { $num: Object.is(value, -0) ? '-0' : String(value) };
  }
  return value;
}

export function jsonReviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && '$num' in value) {
    const s = (value as { $num: string }).$num;
    return s === 'NaN' ? NaN : s === 'Infinity' ? Infinity : s === '-0' ? -0 : -Infinity;
  }
  return value;
}

/**
 * Parses the JSON record of a rare event (at byte `at` of an `end`-byte batch, for the error).
 *
 * @example
 * ```ts
 * const e = parseEvent(new TextEncoder().encode('{"type":"run-completed","v":1,"data":{}}'), 0, 40);
 * ```
 */
export function parseEvent(text: Uint8Array, at: number, end: number): TrainEvent {
  let e: unknown;
  try {
    e = JSON.parse(textDecoder.decode(text), jsonReviver);
  } catch (cause) {
    throw new LogCorruptError(`the event record at byte ${at} of a ${end}-byte batch is not valid JSON`, { cause });
  }
  if (e === null || typeof e !== 'object' || typeof (e as TrainEvent).type !== 'string' || typeof (e as TrainEvent).v !== 'number') {
    throw new LogCorruptError(`the event record at byte ${at} of a ${end}-byte batch is not an event (no type and version)`);
  }
  return e as TrainEvent;
}


import type { TrainEvent } from '../events/train-event.js';

/**
 * Where a live EventStorage sends what it records, in order: the log's appender implements it.
 * Storage defines it so that storage needs nothing from the log (the log depends on storage).
 */
export interface EventSink {
  scalar(name: string, smoothingHint: boolean, iter: number, value: number): void;
  step(iter: number, wallTime: number): void;
  event(e: TrainEvent): void;
}

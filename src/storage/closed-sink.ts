import { StorageClosedError } from './errors.js';
import type { EventSink } from './event-sink.js';
import type { TrainEvent } from '../events/train-event.js';

/** The name of the method that appends `e`, for an error message. */
function putOf(e: TrainEvent): string {
  if (e.type === 'histogram') return `putHistogram(${JSON.stringify(e.data.name)})`;
  if (e.type === 'image') return `putImage(${JSON.stringify(e.data.name)})`;
  return `append(${JSON.stringify(e.type)})`;
}

/**
 * The sink of a closed storage: every put, step and append reaches the sink before it changes
 * anything, so refusing them here costs the open storage's hot path nothing.
 */
export class ClosedSink implements EventSink {
  constructor(
    readonly iter: number,
    readonly status: string | null,
  ) {}
  scalar(name: string): void {
    throw new StorageClosedError(`putScalar(${JSON.stringify(name)})`, this.iter, this.status);
  }
  step(): void {
    throw new StorageClosedError('step()', this.iter, this.status);
  }
  event(e: TrainEvent): void {
    throw new StorageClosedError(putOf(e), this.iter, this.status);
  }
}

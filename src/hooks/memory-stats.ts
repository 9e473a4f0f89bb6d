import * as tf from '@tensorflow/tfjs';
import { HookBase } from '../engine/hook-base.js';

/**
 * Puts tfjs memory figures every `period` iterations: `memory/num_tensors`, `memory/num_bytes`
 * (and `memory/num_data_buffers`), unsmoothed. `tf.memory()` reads counters, no device sync. A
 * number of tensors that grows from write to write is a leak.
 *
 * @example
 * ```ts
 * trainer.register(new MemoryStats(100));
 * ```
 */
export class MemoryStats extends HookBase {
  readonly period: number;

  constructor(period = 20) {
    super();
    this.period = period;
  }

  override afterStep(): void {
    const { iter, storage } = this.trainer.state;
    if ((iter + 1) % this.period !== 0) return;
    const m = tf.memory();
    storage.putScalars({ 'memory/num_tensors': m.numTensors, 'memory/num_bytes': m.numBytes, 'memory/num_data_buffers': m.numDataBuffers }, false);
  }
}

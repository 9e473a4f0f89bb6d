import { StateFold } from './state-fold.js';
import type { StorageState } from './storage-state.js';
import type { TrainEvent } from '../events/train-event.js';

/**
 * Applies a sequence of events to a state: the one reducer behind both the live EventStorage and
 * the replay of a log, so a replayed state equals the live one by construction. It is a loop
 * over `StateFold.apply`, the reducer proper.
 *
 * Pure: `state` is never modified and the result shares everything unchanged with it. Inside,
 * the fold works on private copies made on first write — per batch, the metric table is copied
 * once, the run-info part is an immer draft created only if a rare event needs it, and the
 * samples of each metric are appended in one go — so folding a batch costs O(events), not
 * O(events × state size). `evolveAll(s, [a, b])` always equals `evolve(evolve(s, a), b)`; an
 * event that cannot apply (a changed smoothing hint) throws and no state changes.
 *
 * @example
 * ```ts
 * const state = evolveAll(initialState(), [
 *   event('scalar', { name: 'loss', value: 0.5, smoothingHint: true, iter: 0 }),
 *   event('step', { iter: 0, wallTime: 1700000000 }),
 * ]);
 * state.iter; // 1
 * ```
 */
export function evolveAll(state: StorageState, events: readonly TrainEvent[]): StorageState {
  if (events.length === 0) return state;
  const fold = new StateFold(state);
  for (let i = 0; i < events.length; i++) fold.apply(events[i]!);
  return fold.finish();
}

/**
 * Applies one event. See `evolveAll`.
 *
 * @example
 * ```ts
 * const next = evolve(state, event('step', { iter: state.iter, wallTime: Date.now() / 1000 }));
 * ```
 */
export function evolve(state: StorageState, e: TrainEvent): StorageState {
  return evolveAll(state, [e]);
}

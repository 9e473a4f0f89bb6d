import { filter, type OperatorFunction } from 'rxjs';
import type { LifecycleEvent, LifecycleEventOf, LifecycleEventType } from '../engine/lifecycle-event.js';

/**
 * Keeps lifecycle events of the given types, narrowing their type.
 *
 * @example
 * ```ts
 * trainer.register((events$) => events$.pipe(ofType('step-completed'), tap((e) => e.iter)));
 * ```
 */
export function ofType<T extends LifecycleEventType>(...types: readonly T[]): OperatorFunction<LifecycleEvent, LifecycleEventOf<T>> {
  const wanted = new Set<LifecycleEventType>(types);
  return filter((e: LifecycleEvent): e is LifecycleEventOf<T> => wanted.has(e.type));
}

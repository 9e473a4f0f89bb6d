import { HookBase } from './hook-base.js';
import type { LifecycleEvent } from './lifecycle-event.js';
import { ReactiveEntry } from './reactive-hook.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

/** The hook methods the loop calls, in the order of a run. */
export type Phase = 'beforeTrain' | 'beforeStep' | 'afterBackward' | 'afterStep' | 'afterTrain';

export const PHASES: readonly Phase[] = ['beforeTrain', 'beforeStep', 'afterBackward', 'afterStep', 'afterTrain'];

/** A registered class hook, with the hookTimeoutMs of its registration. */
export class ClassEntry {
  constructor(
    readonly hook: HookBase,
    /** undefined: the trainer's hookTimeoutMs; null: none. */
    readonly timeoutMs: number | null | undefined,
  ) {}
}

export type Entry = ClassEntry | ReactiveEntry;

/**
 * The hooks that act in one phase, in order, each with a prepared call: the loop then makes a
 * plain call per hook, with no type test and no method looked up by the phase's name.
 */
export interface PhaseHooks {
  readonly phase: Phase;
  readonly entries: readonly Entry[];
  readonly calls: ReadonlyArray<(event: LifecycleEvent | null) => unknown>;
}

export function phaseHooks(phase: Phase, all: readonly Entry[]): PhaseHooks {
  // An empty hook method costs nothing: the hooks that do not override it are left out.
  const entries = all.filter((e) => e instanceof ReactiveEntry || e.hook[phase] !== HookBase.prototype[phase]);
  const calls = entries.map((e): ((event: LifecycleEvent | null) => unknown) => {
    if (e instanceof ReactiveEntry) return (event) => (event === null ? undefined : e.feed(event));
    // Read once, at registration (as is whether the hook acts in this phase at all).
    const hook = e.hook;
    const method = hook[phase];
    return () => method.call(hook);
  });
  return { phase, entries, calls };
}

export function hookName(entry: Entry): string {
  return entry instanceof ClassEntry ? entry.hook.constructor.name : entry.fn.name || 'reactive hook';
}

/** The phase a lifecycle event is delivered in (a metric event: whenever it is put). */
export function phaseOf(e: LifecycleEvent): Phase | 'metric-recorded' {
  switch (e.type) {
    case 'train-started':
      return 'beforeTrain';
    case 'step-started':
      return 'beforeStep';
    case 'backward-completed':
      return 'afterBackward';
    case 'step-completed':
      return 'afterStep';
    case 'metric-recorded':
      return 'metric-recorded';
    case 'train-completed':
    case 'train-stopped':
    case 'train-failed':
      return 'afterTrain';
    default: {
      const unknown: never = e;
      throw new InvalidArgumentError(`unknown lifecycle event ${JSON.stringify(unknown)}`);
    }
  }
}

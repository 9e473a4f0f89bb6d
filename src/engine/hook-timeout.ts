import { InvalidArgumentError } from '../errors/trainledger-error.js';

/** Largest delay a Node timer keeps (a longer one fires after 1 ms). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Throws unless `ms` is a usable hookTimeoutMs; `what` names the option in the message. */
export function checkTimeout(ms: unknown, what: string): void {
  if (typeof ms !== 'number' || !(ms > 0 && ms <= MAX_TIMEOUT_MS)) {
    throw new InvalidArgumentError(`${what} must be a number of milliseconds in (0, ${MAX_TIMEOUT_MS}], got ${typeof ms === 'string' ? JSON.stringify(ms) : String(ms)}`);
  }
}

/** A hook's promise outlived its hookTimeoutMs (the registry turns it into a HookTimeoutError). */
export class TimedOut {
  constructor(readonly ms: number) {}
}

/**
 * `p`, or when `ms` is set, a promise that rejects with TimedOut once it passes. Only hooks that
 * return a promise get here: synchronous hooks never arm a timer.
 */
export function withTimeout<T>(p: Promise<T>, ms: number | null | undefined): Promise<T> {
  if (ms === undefined || ms === null) return p;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimedOut(ms)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

import { InvalidArgumentError } from '../errors/trainledger-error.js';

// Checks of what a put is given. Errors are built out of line: puts are the hot path, and a
// small function inlines well.

const MAX_ITER = 0xffffffff;

export function isIter(iter: number): boolean {
  return Number.isInteger(iter) && iter >= 0 && iter <= MAX_ITER;
}

export function notAnIter(iter: number, what: string): InvalidArgumentError {
  return new InvalidArgumentError(`${what} must be an integer iteration in [0, ${MAX_ITER}], got ${String(iter)}`);
}

export function checkIter(iter: number, what: string): void {
  if (!isIter(iter)) throw notAnIter(iter, what);
}

export function notANumber(name: string, value: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    `putScalar(${JSON.stringify(name)}) expects a number, got ${value === null ? 'null' : typeof value}${
      typeof value === 'object' ? ' (read tensors once per step with await t.data(), then put the numbers)' : ''
    }`,
  );
}

/** String.prototype.isWellFormed (Node 20; not in the ES2022 lib this compiles against). */
export const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

export function notWellFormed(method: string, name: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `${method}: metric name ${JSON.stringify(name)} is not well-formed Unicode (it has a lone surrogate); expected a well-formed string, since the log stores names as UTF-8 and a lone surrogate would replay as U+FFFD`,
  );
}

export function notAName(name: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`putScalar expects a non-empty metric name, got ${JSON.stringify(name)}`);
}

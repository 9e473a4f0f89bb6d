/**
 * Base class of every error trainledger throws on purpose. Each carries a stable
 * machine-readable `code` so callers can branch without parsing messages.
 *
 * @example
 * ```ts
 * try { storage.history('nope') } catch (e) {
 *   if (e instanceof TrainledgerError && e.code === 'ERR_UNKNOWN_METRIC') { ... }
 * }
 * ```
 */
export class TrainledgerError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A value given to the API is not what it expects; the message names the value and the expectation. */
export class InvalidArgumentError extends TrainledgerError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_INVALID_ARGUMENT', message, options);
  }
}

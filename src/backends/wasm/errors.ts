import { TrainledgerError } from '../../errors/trainledger-error.js';

/**
 * A kernel registered by trainledger for the wasm backend was given inputs it cannot compute
 * (a dtype or layout the op does not define); the message names the value and what was expected.
 */
export class UnsupportedKernelInputError extends TrainledgerError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_UNSUPPORTED_KERNEL_INPUT', message, options);
  }
}

/**
 * The wasm backend needed for training kernels is missing, or a kernel it should already have
 * (one our kernels are built from) is not registered; the message names what was looked for.
 */
export class WasmBackendUnavailableError extends TrainledgerError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_WASM_BACKEND_UNAVAILABLE', message, options);
  }
}

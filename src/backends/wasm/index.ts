export {
  disableWasmTraining,
  enableWasmTraining,
  wasmTrainingKernelNames,
  type WasmTrainingOptions,
  type WasmTrainingRegistration,
} from './register-training-kernels.js';
export { UnsupportedKernelInputError, WasmBackendUnavailableError } from './errors.js';

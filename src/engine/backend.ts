import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError } from './errors.js';
import { consoleLogger, type Logger } from '../util/logger.js';
import { defaultImporter, importOptional, type ImportOutcome, type ModuleImporter } from './optional-import.js';

/** Which tfjs backend to train on. `auto`: tensorflow (tfjs-node[-gpu], if installed), else wasm, else cpu. */
export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendSelection {
  readonly backend: 'tensorflow' | 'wasm' | 'cpu';
  /** Package that provides it. */
  readonly provider: string;
  /** trainledger's wasm training kernels registered (wasm only). */
  readonly trainingKernels: readonly string[];
}

export interface SelectBackendOptions {
  readonly logger?: Logger | null;
  /** Register trainledger's wasm training kernels (gradients wasm lacks, fast matmul). Default true. */
  readonly wasmTraining?: boolean;
}

type Broken = Extract<ImportOutcome, { kind: 'broken' }> & { readonly pkg: string };

// Imported by name at run time: neither package is a dependency (their install downloads
// libtensorflow, which fails offline), so they are used only when the user installed one.
async function useTensorflow(importer: ModuleImporter, broken: Broken[]): Promise<string | null> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const outcome = await importOptional(pkg, importer);
    if (outcome.kind === 'broken') broken.push({ ...outcome, pkg });
    if (outcome.kind === 'loaded' && (await tf.setBackend('tensorflow'))) return pkg;
  }
  return null;
}

async function useWasm(wasmTraining: boolean): Promise<readonly string[] | null> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    const { enableWasmTraining } = await import('../backends/wasm/index.js');
    // Registering before the backend starts also points tfjs at the packaged .wasm binaries.
    const kernels = wasmTraining ? (await enableWasmTraining()).registered : [];
    if (!(await tf.setBackend('wasm'))) return null;
    await tf.ready();
    return kernels;
  } catch {
    return null;
  }
}

/**
 * Picks and initializes the tfjs backend, and logs which one was chosen.
 *
 * @example
 * ```ts
 * const { backend } = await selectBackend('auto'); // 'wasm' on a machine without tfjs-node
 * ```
 */
export function selectBackend(choice: BackendChoice = 'auto', options: SelectBackendOptions = {}): Promise<BackendSelection> {
  return selectBackendWith(defaultImporter, choice, options);
}

/** {@link selectBackend} with the importer of tfjs-node given (tests simulate a broken install). */
export async function selectBackendWith(importer: ModuleImporter, choice: BackendChoice, options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const logger = options.logger === undefined ? consoleLogger : options.logger;
  const wasmTraining = options.wasmTraining ?? true;
  let selection: BackendSelection | null = null;
  if (choice === 'auto' || choice === 'tensorflow') {
    const broken: Broken[] = [];
    const pkg = await useTensorflow(importer, broken);
    if (pkg !== null) selection = { backend: 'tensorflow', provider: pkg, trainingKernels: [] };
    else if (choice === 'tensorflow') {
      const first = broken[0];
      if (first !== undefined) {
        throw new BackendUnavailableError(`backend 'tensorflow' cannot start: ${broken.map((b) => b.problem).join('; ')}. Fix: ${first.fix}`, { cause: first.cause });
      }
      throw new BackendUnavailableError("backend 'tensorflow' needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu installed (npm install @tensorflow/tfjs-node)");
    }
    // 'auto' falls back, but says why an installed tfjs-node was not used.
    for (const b of selection === null ? broken : []) logger?.warn(`${b.problem}; using another backend. Fix: ${b.fix}`);
  }
  if (selection === null && (choice === 'auto' || choice === 'wasm')) {
    const kernels = await useWasm(wasmTraining);
    if (kernels !== null) selection = { backend: 'wasm', provider: '@tensorflow/tfjs-backend-wasm', trainingKernels: kernels };
    else if (choice === 'wasm') throw new BackendUnavailableError("backend 'wasm' could not start (@tensorflow/tfjs-backend-wasm missing or its .wasm binary not found)");
  }
  if (selection === null) {
    if (choice !== 'auto' && choice !== 'cpu') throw new BackendUnavailableError(`unknown backend ${JSON.stringify(choice)}; expected 'auto', 'tensorflow', 'wasm' or 'cpu'`);
    await tf.setBackend('cpu');
    selection = { backend: 'cpu', provider: '@tensorflow/tfjs-backend-cpu', trainingKernels: [] };
  }
  logger?.info(
    `tfjs backend: ${selection.backend} (${selection.provider}${selection.trainingKernels.length ? `, trainledger training kernels: ${selection.trainingKernels.join(', ')}` : ''})`,
  );
  return selection;
}

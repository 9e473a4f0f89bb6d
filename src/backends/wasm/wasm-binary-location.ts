import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';

import { engine } from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

import { WasmBackendUnavailableError } from './errors.js';

/**
 * Folder holding `tfjs-backend-wasm*.wasm`, with a trailing separator as `setWasmPaths` wants.
 *
 * Node resolves the package to its CommonJS bundle `dist/tf-backend-wasm.node.js`, which already
 * looks next to itself; but code loaded through the ESM build (bundlers, some test runners) looks
 * relative to the working directory, so pointing tfjs at the resolved folder explicitly makes
 * the backend start from any cwd.
 *
 * @example
 * ```ts
 * packagedWasmFolder(); // '/…/node_modules/@tensorflow/tfjs-backend-wasm/dist/'
 * ```
 */
export function packagedWasmFolder(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + sep;
}

/**
 * Tells tfjs where the wasm binaries are, unless the backend already started (then the binary is
 * loaded and the setting would be ignored) or `prefix` is null (the caller configured it).
 *
 * @example
 * ```ts
 * locateWasmBinaries(undefined); // before tf.setBackend('wasm'): use the installed package's binaries
 * ```
 */
export function locateWasmBinaries(prefix: string | null | undefined): void {
  if (prefix === null || engine().registry['wasm'] !== undefined) return;
  const folder = prefix ?? packagedWasmFolder();
  try {
    setWasmPaths(folder);
  } catch (cause) {
    throw new WasmBackendUnavailableError(
      `cannot point the wasm backend at '${folder}': an earlier initialisation of the backend ` +
        `failed; expected enableWasmTraining to run before the first tf.setBackend('wasm')`,
      { cause },
    );
  }
}

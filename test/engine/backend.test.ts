import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../tf-setup.js';
import { selectBackendWith } from '../../src/engine/backend.js';
import { BackendUnavailableError } from '../../src/engine/errors.js';
import { importOptional, type ModuleImporter } from '../../src/engine/optional-import.js';
import { memoryLogger } from '../../src/util/logger.js';

function notFound(name: string): Error {
  return Object.assign(new Error(`Cannot find package '${name}' imported from /app/node_modules/trainledger/dist/engine/optional-import.js`), { code: 'ERR_MODULE_NOT_FOUND' });
}

// What tfjs-node 4.x throws when its install could not fetch its binary (its own text, several lines).
const BINDING_MISSING = new Error(
  "The Node.js native addon module (tfjs_binding.node) can not be found at path: /app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node. \n" +
    "Please run command 'npm rebuild @tensorflow/tfjs-node --build-addon-from-source' to rebuild the native addon module. \n" +
    'If you have problem with building the addon module, please check https://github.com/tensorflow/tfjs/blob/master/tfjs-node/WINDOWS_TROUBLESHOOTING.md or file an issue.',
);

const LIBTENSORFLOW_MISSING = Object.assign(new Error('libtensorflow.so.2: cannot open shared object file: No such file or directory'), { code: 'ERR_DLOPEN_FAILED' });

/** An importer where tfjs-node-gpu is not installed and tfjs-node fails with `error`. */
function tfjsNodeFailsWith(error: unknown): ModuleImporter {
  return async (name) => {
    if (name === '@tensorflow/tfjs-node') throw error;
    throw notFound(name);
  };
}

async function rejection(p: Promise<unknown>): Promise<BackendUnavailableError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof BackendUnavailableError, `expected a BackendUnavailableError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected selectBackend to reject');
}

test("selectBackend('tensorflow') with tfjs-node's binding missing says so and how to fix it, in one line", async () => {
  const e = await rejection(selectBackendWith(tfjsNodeFailsWith(BINDING_MISSING), 'tensorflow', { logger: null }));
  assert.equal(e.code, 'ERR_BACKEND_UNAVAILABLE');
  assert.equal(
    e.message,
    "backend 'tensorflow' cannot start: @tensorflow/tfjs-node is installed but its native binding (tfjs_binding.node) is missing: its install did not download or build it (it downloads libtensorflow, which fails offline). " +
      'Fix: reinstall it with internet access (npm install @tensorflow/tfjs-node), or rebuild it: npm rebuild @tensorflow/tfjs-node --build-addon-from-source (needs a C++ toolchain)',
  );
  assert.equal(e.cause, BINDING_MISSING);
});

test("selectBackend('tensorflow') with libtensorflow missing names the library and the loader's message", async () => {
  const e = await rejection(selectBackendWith(tfjsNodeFailsWith(LIBTENSORFLOW_MISSING), 'tensorflow', { logger: null }));
  assert.match(e.message, /^backend 'tensorflow' cannot start: @tensorflow\/tfjs-node is installed but its native library could not be loaded \(libtensorflow not downloaded, or built for another system\): libtensorflow\.so\.2: cannot open shared object file: No such file or directory\. Fix: reinstall it with internet access/);
  assert.doesNotMatch(e.message, /\n/);
});

test("selectBackend('tensorflow') with neither tfjs-node package installed says to install one", async () => {
  const e = await rejection(selectBackendWith(async (name) => { throw notFound(name); }, 'tensorflow', { logger: null }));
  assert.equal(e.message, "backend 'tensorflow' needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu installed (npm install @tensorflow/tfjs-node)");
});

test("selectBackend('auto') with a broken tfjs-node warns why and falls back to wasm", async () => {
  const logger = memoryLogger();
  const selection = await selectBackendWith(tfjsNodeFailsWith(BINDING_MISSING), 'auto', { logger, wasmTraining: false });
  await tf.setBackend('cpu');
  assert.equal(selection.backend, 'wasm');
  assert.deepEqual(logger.lines, [
    'WARNING @tensorflow/tfjs-node is installed but its native binding (tfjs_binding.node) is missing: its install did not download or build it (it downloads libtensorflow, which fails offline); using another backend. ' +
      'Fix: reinstall it with internet access (npm install @tensorflow/tfjs-node), or rebuild it: npm rebuild @tensorflow/tfjs-node --build-addon-from-source (needs a C++ toolchain)',
    'tfjs backend: wasm (@tensorflow/tfjs-backend-wasm)',
  ]);
});

test('a package that is installed but lacks one of its own dependencies is broken, not missing', async () => {
  const outcome = await importOptional('@tensorflow/tfjs-node', async () => {
    throw notFound('@mapbox/node-pre-gyp');
  });
  assert.equal(outcome.kind, 'broken');
  assert.equal(
    outcome.kind === 'broken' ? outcome.problem : '',
    "@tensorflow/tfjs-node is installed but a package it needs is not: Cannot find package '@mapbox/node-pre-gyp' imported from /app/node_modules/trainledger/dist/engine/optional-import.js",
  );
});

test('importOptional loads a package that is there, and calls one that is not missing', async () => {
  assert.deepEqual(await importOptional('node:path'), { kind: 'loaded' });
  assert.deepEqual(await importOptional('trainledger-no-such-package'), { kind: 'missing' });
});

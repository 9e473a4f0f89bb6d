import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { packagedWasmFolder } from '../../../src/backends/wasm/wasm-binary-location.js';

test('the wasm binary location points at the installed package folder, which holds the SIMD binary', () => {
  const folder = packagedWasmFolder();
  assert.ok(existsSync(join(folder, 'tfjs-backend-wasm-simd.wasm')), folder);
});

test('the located wasm binary starts the wasm backend and trains from a working directory outside the project', () => {
  const fixture = fileURLToPath(new URL('./fixtures/train-from-any-cwd.ts', import.meta.url));
  const cwd = tmpdir();
  const child = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), fixture], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(child.status, 0, child.stderr.slice(0, 2000));
  const report = JSON.parse(child.stdout) as { started: boolean; backend: string; cwd: string; loss: number };
  assert.equal(report.started, true);
  assert.equal(report.backend, 'wasm');
  assert.equal(report.cwd, cwd);
  // All-ones 8×8 input and 3×3 filter, 'same' padding: each axis contributes 2 + 6·3 + 2 = 22
  // taps, so each of the 2 images × 2 output channels sums to 22² = 484.
  assert.equal(report.loss, 2 * 2 * 22 * 22);
});

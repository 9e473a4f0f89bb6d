#!/usr/bin/env node
// Runs the test suite with node:test + tsx. Node 20 does not expand globs given to --test and
// reports success when it finds no file, so we list the files ourselves and fail on none.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const dirs = args.length > 0 ? args : ['test'];

function collect(path, out) {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const entry of readdirSync(path).sort()) collect(join(path, entry), out);
  } else if (/\.test\.ts$/.test(path)) {
    out.push(relative(root, path));
  }
  return out;
}

const files = dirs.flatMap((d) => collect(join(root, d), []));
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files under ${dirs.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...files], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  maxBuffer: 256 * 1024 * 1024,
});
const out = result.stdout.toString();
process.stdout.write(out);
// A green exit with zero executed tests is a failure for us.
const m = /^# tests (\d+)/m.exec(out);
if (!m || Number(m[1]) === 0) {
  console.error('run-tests: the runner executed no test');
  process.exit(1);
}
process.exit(result.status ?? 1);

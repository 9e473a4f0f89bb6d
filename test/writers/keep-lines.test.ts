import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keepLines } from '../../src/writers/keep-lines.js';
import { tempDir } from '../helpers.js';

test('keepLines keeps the accepted lines in order and leaves a file with nothing to drop untouched', () => {
  const path = join(tempDir(), 'm.txt');
  writeFileSync(path, 'a\nb\nc\n');
  keepLines(path, (line, i) => line !== 'b' && i < 3);
  assert.equal(readFileSync(path, 'utf8'), 'a\nc\n');
  writeFileSync(path, 'x\ny'); // no final newline: nothing is dropped, so the bytes stay as they were
  keepLines(path, () => true);
  assert.equal(readFileSync(path, 'utf8'), 'x\ny');
});

test('keepLines removes the copy a process killed before its rename left', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'm.txt'), 'a\n');
  writeFileSync(join(dir, '.m.txt.tmp-12345'), 'a\nb');
  writeFileSync(join(dir, '.other.txt.tmp-12345'), 'not ours');
  keepLines(join(dir, 'm.txt'), () => true);
  assert.deepEqual(readdirSync(dir).sort(), ['.other.txt.tmp-12345', 'm.txt']);
});

test('keepLines leaves a missing path and a directory alone', () => {
  const dir = tempDir();
  keepLines(join(dir, 'none.json'), () => false);
  mkdirSync(join(dir, 'a-dir'));
  keepLines(join(dir, 'a-dir'), () => false);
  assert.deepEqual(readdirSync(dir), ['a-dir']);
});

test('a rewrite that fails midway (the disk full) leaves the old text whole', () => {
  const dir = tempDir();
  const path = join(dir, 'metrics.json');
  const body = Array.from({ length: 20_000 }, (_, i) => `{"iteration": ${i}, "loss": 0.5}`).join('\n') + '\n';
  writeFileSync(path, body + 'last\n');
  const child = new URL('./fixtures/keep-lines-once.ts', import.meta.url).pathname;
  // A 64 KiB limit on file writes: the child's write of the ~600 KB kept text stops there with
  // EFBIG (Node ignores SIGXFSZ), as on a full disk; a kill would stop it at some point too.
  const r = spawnSync('bash', ['-c', 'ulimit -f 64 && exec "$0" --import tsx "$1" "$2"', process.execPath, child, path], { encoding: 'utf8' });
  assert.match(r.stderr, /EFBIG/, 'the write was to fail midway');
  const text = readFileSync(path, 'utf8');
  assert.ok(text === body + 'last\n', `the failed rewrite left ${text.length} bytes of the ${body.length + 5}`);
  assert.deepEqual(readdirSync(dir), ['metrics.json'], 'no temporary file is left');
});

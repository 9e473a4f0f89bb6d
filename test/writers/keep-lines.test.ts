import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keepLines, startReplacement } from '../../src/writers/keep-lines.js';
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

test('a replacement puts its copy in place in one rename, or leaves the old file whole when abandoned', () => {
  const dir = tempDir();
  const path = join(dir, 'out.json');
  writeFileSync(path, 'old\n');
  writeFileSync(join(dir, '.out.json.tmp-99999'), 'left by a killed process');
  const failed = startReplacement(path);
  writeFileSync(failed.tmp, 'half');
  failed.abandon();
  assert.deepEqual([readFileSync(path, 'utf8'), readdirSync(dir)], ['old\n', ['out.json']]);
  const done = startReplacement(path);
  writeFileSync(done.tmp, 'new\n');
  done.commit();
  assert.deepEqual([readFileSync(path, 'utf8'), readdirSync(dir)], ['new\n', ['out.json']]);
  // A copy nothing was written to replaces the file with an empty one.
  startReplacement(path).commit();
  assert.deepEqual([readFileSync(path, 'utf8'), readdirSync(dir)], ['', ['out.json']]);
});

test('a replacement with its own copy prefix removes only stale copies of that prefix', () => {
  const dir = tempDir();
  writeFileSync(join(dir, '.tb-export.tmp-1'), 'stale');
  writeFileSync(join(dir, '.x.tmp-1'), 'not ours');
  const r = startReplacement(join(dir, 'events.out.tfevents.trainledger'), '.tb-export.tmp-');
  assert.equal(r.tmp, join(dir, `.tb-export.tmp-${process.pid}`));
  assert.deepEqual(readdirSync(dir), ['.x.tmp-1']);
});

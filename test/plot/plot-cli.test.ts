import assert from 'node:assert/strict';
import { test, before } from 'node:test';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, smallRun } from '../cli/cli-harness.js';
import { parsePlotSource } from '../../src/cli/plot-metrics.js';
import { tempDir } from '../helpers.js';

const dir = tempDir();
const a = join(dir, 'a.sqlite');
const b = join(dir, 'b.sqlite');
const svgTexts = (path: string): string[] => [...readFileSync(path, 'utf8').matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] ?? '');

before(async () => {
  await smallRun(a, { steps: 12, name: 'fast' });
  await smallRun(a, { steps: 8, name: 'slow' });
  await smallRun(b, { steps: 10, name: 'fast' });
});

test('LOG:RUN names a run of a log; a path that exists is a log as a whole, colon and all', () => {
  assert.deepEqual(parsePlotSource(`${a}:slow`, undefined), { path: a, run: 'slow' });
  assert.deepEqual(parsePlotSource(`${a}:name:slow`, undefined), { path: a, run: 'name:slow' });
  assert.deepEqual(parsePlotSource(a, 'fast'), { path: a, run: 'fast' });
  const colonLog = join(dir, 'x:1');
  writeFileSync(colonLog, '');
  assert.deepEqual(parsePlotSource(colonLog, undefined), { path: colonLog, run: undefined });
  assert.deepEqual(parsePlotSource(join(dir, 'missing.sqlite:2'), undefined), { path: join(dir, 'missing.sqlite:2'), run: undefined });
});

test('plot overlays runs of one log and of several, naming each line by run, or log:run when names repeat', async () => {
  const out = join(dir, 'overlay.svg');
  const r = await cli('plot', `${a}:fast`, `${a}:name:slow`, `${b}:fast`, '--metric', 'total_loss', '--out', out);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, `wrote ${out}`);
  const texts = svgTexts(out);
  for (const label of ['a.sqlite:fast', 'slow', 'b.sqlite:fast', 'raw', 'median of 20 iterations']) assert.ok(texts.includes(label), `${label} in ${texts.join('|')}`);
});

test('plot --log-scale draws a log axis and says so in its title', async () => {
  const out = join(dir, 'log.svg');
  const r = await cli('plot', a, '--run', 'fast', '--metric', 'total_loss', '--out', out, '--log-scale');
  assert.equal(r.code, 0, r.err);
  assert.ok(svgTexts(out).includes('total_loss (log scale)'), svgTexts(out).join('|'));
});

test('a source naming no log fails the plot in one line naming it, exit 2', async () => {
  const r = await cli('plot', a, join(dir, 'nope.sqlite'), '--metric', 'total_loss', '--out', join(dir, 'x.svg'));
  assert.equal(r.code, 2);
  assert.match(r.err, /^trainledger: .*nope\.sqlite/);
  assert.equal(r.err.includes('\n'), false);
});

test('without the charting packages, plot prints the npm install line as a one-line error and exits 2', () => {
  const runner = join(dir, 'run-cli.mts');
  writeFileSync(runner, `import { runCli } from ${JSON.stringify(fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url)))};\nprocess.exitCode = await runCli(process.argv.slice(2), { out: (s) => console.log(s), err: (s) => console.error(s) });\n`);
  const without = fileURLToPath(new URL('./fixtures/without-chart-packages.mjs', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', without, runner, 'plot', a, '--metric', 'total_loss', '--out', join(dir, 'none.png')], { encoding: 'utf8', cwd: fileURLToPath(new URL('../..', import.meta.url)) });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, 'trainledger: plotting needs the optional packages vega, vega-lite, @resvg/resvg-js and @expo-google-fonts/inter, and vega, vega-lite, @resvg/resvg-js, @expo-google-fonts/inter are not installed: npm install vega vega-lite @resvg/resvg-js @expo-google-fonts/inter\n');
});

test('plot draws the same chart from the snapshot cache as from the log alone', async () => {
  const { LogFile } = await import('../../src/log/log-file.js');
  const { BLOCK } = await import('../../src/log/snapshot-blocks.js');
  const path = join(tempDir(), 'long.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'long' });
  for (let i = 0; i < 2 * BLOCK + 10; i++) {
    w.scalar('total_loss', true, i, Math.fround(1 / (1 + i) + 0.01 * Math.sin(i)));
    w.scalar('lr', false, i, 0.1);
    w.step(i, 1_700_000_000 + i);
  }
  await w.close();
  log.close();
  const before = join(dir, 'before-cache.svg');
  const after = join(dir, 'after-cache.svg');
  assert.equal((await cli('plot', path, '--metric', 'total_loss', '--out', before)).code, 0);
  // show fills the cache; plot then starts from its last snapshot, reading only total_loss's blocks.
  assert.equal((await cli('show', path)).code, 0);
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(`${path}.snapshots`, { readonly: true });
  assert.deepEqual(db.prepare('SELECT iter FROM snapshots ORDER BY seq').pluck().all(), [BLOCK, 2 * BLOCK]);
  db.close();
  assert.equal((await cli('plot', path, '--metric', 'total_loss', '--out', after)).code, 0);
  assert.equal(readFileSync(after, 'utf8'), readFileSync(before, 'utf8'));
});

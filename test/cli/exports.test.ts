import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { linkSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cli, hashLog, smallRun } from './cli-harness.js';
import { runFolderName } from '../../src/cli/export-run.js';
import { tempDir } from '../helpers.js';

const EXPORT = 'events.out.tfevents.trainledger';

// One log of two runs ('small' then 'other') in a folder that also holds the user's files.
const dir = tempDir();
const log = join(dir, 'runs.sqlite');

before(async () => {
  await smallRun(log, { steps: 12, name: 'small', json: join(dir, 'live', 'small.json') });
  await smallRun(log, { steps: 8, name: 'other', json: join(dir, 'live', 'other.json') });
});

test('replay --tensorboard writes into a subfolder named after the run and leaves everything else in the directory alone', async () => {
  const tb = tempDir();
  const ownLog = join(tb, 'inside.sqlite');
  await smallRun(ownLog, { steps: 6, name: 'small', json: join(tb, 'live.json') });
  writeFileSync(join(tb, 'notes.txt'), 'mine');
  mkdirSync(join(tb, 'small'));
  writeFileSync(join(tb, 'small', 'events.out.tfevents.1700000000.otherhost'), 'someone else');
  const before = hashLog(ownLog);
  const r = await cli('replay', ownLog, '--tensorboard', tb);
  assert.equal(r.code, 0, r.err);
  assert.equal(readFileSync(join(tb, 'notes.txt'), 'utf8'), 'mine');
  assert.equal(readFileSync(join(tb, 'live.json'), 'utf8').length > 0, true);
  assert.equal(hashLog(ownLog), before);
  assert.deepEqual(readdirSync(join(tb, 'small')).sort(), ['events.out.tfevents.1700000000.otherhost', EXPORT]);
  assert.equal(readFileSync(join(tb, 'small', 'events.out.tfevents.1700000000.otherhost'), 'utf8'), 'someone else');
  assert.match(r.out, new RegExp(`${join(tb, 'small', EXPORT)}$`));
});

test('several runs exported to one --tensorboard directory each get their own subfolder, and exporting again replaces only our file', async () => {
  const tb = join(tempDir(), 'tb');
  assert.equal((await cli('replay', log, '--run', 'small', '--tensorboard', tb)).code, 0);
  assert.equal((await cli('replay', log, '--run', 'other', '--tensorboard', tb)).code, 0);
  assert.deepEqual(readdirSync(tb).sort(), ['other', 'small']);
  const first = readFileSync(join(tb, 'small', EXPORT));
  const again = await cli('replay', log, '--run', 'small', '--tensorboard', tb);
  assert.equal(again.code, 0, again.err);
  assert.deepEqual(readdirSync(join(tb, 'small')), [EXPORT]);
  assert.deepEqual(readFileSync(join(tb, 'small', EXPORT)), first);
});

test('a file in the run subfolder named like our export but not an event file is only replaced with --force', async () => {
  const tb = tempDir();
  mkdirSync(join(tb, 'small'));
  writeFileSync(join(tb, 'small', EXPORT), 'not an event file');
  const r = await cli('replay', log, '--run', 'small', '--tensorboard', tb);
  assert.equal(r.code, 2);
  assert.match(r.err, /^trainledger: .*events\.out\.tfevents\.trainledger exists and is not a TensorBoard export of trainledger.*--force/);
  assert.equal(readFileSync(join(tb, 'small', EXPORT), 'utf8'), 'not an event file');
  assert.equal((await cli('replay', log, '--run', 'small', '--tensorboard', tb, '--force')).code, 0);
  assert.notEqual(readFileSync(join(tb, 'small', EXPORT), 'utf8'), 'not an event file');
});

test('a run name becomes one safe folder name: no separators, no dot folders', () => {
  assert.deepEqual(
    ['demo', '../evil', 'a/b\\c', '..', '.', '', 'x\0y', 'tab\there', 'a:b*c?'].map((n) => runFolderName(n, 7)),
    ['demo', '.._evil', 'a_b_c', 'run-7', 'run-7', 'run-7', 'x_y', 'tab_here', 'a_b_c_'],
  );
  assert.equal(runFolderName('x'.repeat(500), 3).length, 200);
});

test('replay refuses to write an export over the log or any of its sidecars, even with --force', async () => {
  writeFileSync(`${log}.snapshots`, 'cache stand-in');
  symlinkSync(log, join(dir, 'link.json'));
  linkSync(log, join(dir, 'hard.json'));
  mkdirSync(join(dir, 'sub'));
  symlinkSync(dir, join(dir, 'dirlink'));
  const before = hashLog(log);
  const targets = [
    log,
    join(dir, 'sub', '..', 'runs.sqlite'),
    join(dir, 'dirlink', 'runs.sqlite'),
    join(dir, 'link.json'),
    join(dir, 'hard.json'),
    `${log}-wal`,
    `${log}-shm`,
    `${log}.snapshots`,
    `${log}.snapshots-wal`,
    `${log}.snapshots-shm`,
  ];
  const refused: string[] = [];
  for (const target of targets) {
    for (const flag of ['--json', '--csv']) {
      for (const force of [[], ['--force']]) {
        const r = await cli('replay', log, flag, target, ...force);
        if (r.code === 2 && /^trainledger: refusing to write .* the log .*runs\.sqlite/.test(r.err) && !r.err.includes('\n')) refused.push(`${flag} ${target} ${force.join('')}`);
      }
    }
  }
  assert.deepEqual(refused, targets.flatMap((t) => [`--json ${t} `, `--json ${t} --force`, `--csv ${t} `, `--csv ${t} --force`]));
  assert.equal(hashLog(log), before);
  assert.equal(readFileSync(`${log}.snapshots`, 'utf8'), 'cache stand-in');
});

test('replay --tensorboard refuses a run subfolder that is the log itself', async () => {
  const d = tempDir();
  const named = join(d, 'small');
  await smallRun(named, { steps: 4, name: 'small', json: join(d, 'm.json') });
  const before = hashLog(named);
  const r = await cli('replay', named, '--tensorboard', d, '--force');
  assert.equal(r.code, 2);
  assert.match(r.err, /^trainledger: refusing to write .* the log/);
  assert.equal(hashLog(named), before);
});

test('replay refuses to replace a file that is not a previous export of the same kind unless --force', async () => {
  const d = tempDir();
  const cases: Array<[string, string, string]> = [
    ['--json', join(d, 'notes.json'), 'hello\n'],
    ['--json', join(d, 'half.json'), '{"iteration": 1, "loss": 0.5}\n{"loss": 1}\n'],
    ['--json', join(d, 'was.csv.json'), 'iteration,name,value,wall_time\n0,loss,1.0,5.0\n'],
    ['--csv', join(d, 'data.csv'), 'a,b,c\n1,2,3\n'],
    ['--csv', join(d, 'was-json.csv'), '{"iteration": 1, "loss": 0.5}\n'],
  ];
  const outcomes: string[] = [];
  for (const [flag, path, text] of cases) {
    writeFileSync(path, text);
    const r = await cli('replay', log, flag, path);
    outcomes.push(`${r.code} ${/exists and is not a previous (JSON|CSV) export.*--force/.test(r.err)} ${readFileSync(path, 'utf8') === text}`);
  }
  assert.deepEqual(outcomes, cases.map(() => '2 true true'));
  const forced: string[] = [];
  for (const [flag, path, text] of cases) {
    const r = await cli('replay', log, flag, path, '--force');
    forced.push(`${r.code} ${readFileSync(path, 'utf8') !== text}`);
  }
  assert.deepEqual(forced, cases.map(() => '0 true'));
});

test('replay replaces a previous export of the same kind, or an empty file, without --force, leaving no temp file', async () => {
  const d = tempDir();
  const json = join(d, 'm.json');
  const csv = join(d, 'm.csv');
  writeFileSync(json, '');
  assert.equal((await cli('replay', log, '--json', json, '--csv', csv)).code, 0);
  const firstJson = readFileSync(json, 'utf8');
  const firstCsv = readFileSync(csv, 'utf8');
  // Python's NaN and Infinity tokens are JSON-export lines too.
  writeFileSync(json, '{"iteration": 0, "loss": NaN}\n{"iteration": 4, "loss": -Infinity, "name": "a\\"b"}\n');
  const r = await cli('replay', log, '--json', json, '--csv', csv);
  assert.equal(r.code, 0, r.err);
  assert.equal(readFileSync(json, 'utf8'), firstJson);
  assert.equal(readFileSync(csv, 'utf8'), firstCsv);
  assert.deepEqual(readdirSync(d).sort(), ['m.csv', 'm.json']);
});

test('replay refuses one file named by both --json and --csv, and an output that is a directory', async () => {
  const d = tempDir();
  const same = await cli('replay', log, '--json', join(d, 'x'), '--csv', join(d, '.', 'x'));
  assert.equal(same.code, 2);
  assert.match(same.err, /^trainledger: --json and --csv name the same file/);
  mkdirSync(join(d, 'folder'));
  const folder = await cli('replay', log, '--json', join(d, 'folder'), '--force');
  assert.equal(folder.code, 2);
  assert.match(folder.err, /^trainledger: .*folder is a directory; --json expects a file path$/);
  assert.deepEqual(readdirSync(d), ['folder']);
});

test('an export that fails midway (the disk full) leaves the previous export whole, no temp file, and one line', async () => {
  const d = tempDir();
  const long = join(tempDir(), 'long.sqlite');
  await smallRun(long, { steps: 500, period: 100, name: 'long', json: join(tempDir(), 'live.json') });
  const csv = join(d, 'm.csv');
  assert.equal((await cli('replay', long, '--csv', csv)).code, 0);
  const previous = readFileSync(csv, 'utf8');
  assert.ok(previous.length > 40 * 1024, 'bigger than the write limit below');
  writeFileSync(csv, previous.replace(/\n0,/, '\n1,')); // so the export would change it
  const changed = readFileSync(csv, 'utf8');
  const child = new URL('./fixtures/run-cli.ts', import.meta.url).pathname;
  // A 40 KiB limit on file writes (SQLite's 32 KiB index fits): the export's write stops with EFBIG, as on a full disk.
  const r = spawnSync('bash', ['-c', 'ulimit -f 40 && exec "$0" --import tsx "$1" replay "$2" --csv "$3"', process.execPath, child, long, csv], { encoding: 'utf8' });
  assert.deepEqual([r.status, r.stderr], [2, `trainledger: cannot write ${csv}: file too large (EFBIG)\n`]);
  assert.equal(readFileSync(csv, 'utf8'), changed);
  assert.deepEqual(readdirSync(d), ['m.csv']);
  assert.ok(statSync(csv).size === changed.length);
});

test('plot refuses to write its chart over the log', async () => {
  const d = tempDir();
  const svgLog = join(d, 'curves.svg');
  await smallRun(svgLog, { steps: 4, name: 'small', json: join(d, 'm.json') });
  const before = hashLog(svgLog);
  const r = await cli('plot', svgLog, '--metric', 'total_loss', '--out', join(d, '.', 'curves.svg'));
  assert.deepEqual([r.code, /^trainledger: refusing to write --out to .* the log /.test(r.err)], [2, true]);
  assert.equal(hashLog(svgLog), before);
});

test('plot replaces only a chart it wrote before: another file needs --force, and both formats carry the mark', async () => {
  const d = tempDir();
  for (const ext of ['svg', 'png']) {
    const out = join(d, `mine.${ext}`);
    writeFileSync(out, 'my own picture');
    const refused = await cli('plot', log, '--run', 'small', '--metric', 'total_loss', '--out', out);
    assert.deepEqual([refused.code, readFileSync(out, 'utf8')], [2, 'my own picture'], refused.err);
    assert.match(refused.err, /^trainledger: .*mine\.\w+.*--force/);
    const forced = await cli('plot', log, '--run', 'small', '--metric', 'total_loss', '--out', out, '--force');
    assert.equal(forced.code, 0, forced.err);
    // The chart plot wrote is recognised as its own: plotting again needs no --force.
    const again = await cli('plot', log, '--run', 'small', '--metric', 'total_loss', '--out', out);
    assert.equal(again.code, 0, again.err);
    assert.deepEqual(readdirSync(d).filter((f) => f.startsWith('.')), []);
  }
  // The PNG is still a PNG a decoder accepts: its chunk CRCs check.
  const png = readFileSync(join(d, 'mine.png'));
  const { crc32 } = await import('node:zlib');
  const chunks: string[] = [];
  for (let at = 8; at < png.length; ) {
    const n = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    assert.equal(png.readUInt32BE(at + 8 + n), crc32(png.subarray(at + 4, at + 8 + n)), `${type} CRC`);
    chunks.push(type);
    at += 12 + n;
  }
  assert.deepEqual(chunks.slice(-2), ['tEXt', 'IEND']);
});

test('a previous CSV export is recognised by its first line, even one too big to read whole (3 GB, sparse)', async () => {
  const { checkExportTarget, LogFiles } = await import('../../src/cli/export-targets.js');
  const dir = tempDir();
  const big = join(dir, 'big.csv');
  writeFileSync(big, 'iteration,name,value,wall_time\n0,loss,1.0,1.0\n');
  truncateSync(big, 3 * 1024 ** 3);
  const logFiles = new LogFiles(join(dir, 'run.sqlite'));
  assert.doesNotThrow(() => checkExportTarget('--csv', 'CSV', big, logFiles, false));
  const other = join(dir, 'other.csv');
  writeFileSync(other, 'iteration,na');
  assert.throws(() => checkExportTarget('--csv', 'CSV', other, logFiles, false), { code: 'ERR_OUTPUT_EXISTS' });
});

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cli, smallRun } from './cli-harness.js';
import { cliErrorLine } from '../../src/cli/errors.js';
import { TrainledgerError } from '../../src/errors/trainledger-error.js';
import { tempDir } from '../helpers.js';

const dir = tempDir();
const log = join(dir, 'runs.sqlite');

before(async () => {
  await smallRun(log, { steps: 6, name: 'first', json: join(dir, 'first.json') });
  // A run named by digits, whose name is also another run's id.
  await smallRun(log, { steps: 4, name: '1', json: join(dir, 'one.json') });
});

function errnoError(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  const text = { EROFS: 'read-only file system', EACCES: 'permission denied', ENOENT: 'no such file or directory', EISDIR: 'illegal operation on a directory' }[code];
  return Object.assign(new Error(`${code}: ${text}, ${syscall}${path ? ` '${path}'` : ''}`), { code, syscall, path, errno: -1 });
}

test('every error becomes one line: ours by message, a filesystem error by path and cause, anything else by its message', () => {
  assert.deepEqual(
    [
      cliErrorLine(new TrainledgerError('ERR_X', 'a problem\nover two lines')),
      cliErrorLine(errnoError('EROFS', 'open', '/mnt/ro/m.json')),
      cliErrorLine(errnoError('EACCES', 'mkdir', '/root/out')),
      cliErrorLine(errnoError('ENOENT', 'rename', '/gone/x')),
      cliErrorLine(errnoError('EISDIR', 'read')),
      cliErrorLine(Object.assign(new Error('unable to open database file'), { code: 'SQLITE_CANTOPEN' })),
      cliErrorLine(new TypeError('x is not a function\n    at foo (bar.js:1:1)')),
      cliErrorLine('a string'),
    ],
    [
      { line: 'trainledger: a problem over two lines', code: 2 },
      { line: 'trainledger: cannot open /mnt/ro/m.json: read-only file system (EROFS)', code: 2 },
      { line: 'trainledger: cannot mkdir /root/out: permission denied (EACCES)', code: 2 },
      { line: 'trainledger: cannot rename /gone/x: no such file or directory (ENOENT)', code: 2 },
      { line: 'trainledger: cannot read: is a directory (EISDIR)', code: 2 },
      { line: 'trainledger: unable to open database file (SQLITE_CANTOPEN)', code: 2 },
      { line: 'trainledger: internal error: TypeError: x is not a function', code: 2 },
      { line: 'trainledger: internal error: a string', code: 2 },
    ],
  );
});

test('a log path that is a directory gets one line naming it and exit 2', async () => {
  const results = [];
  for (const command of [['runs'], ['show'], ['replay', '--json', join(tempDir(), 'x.json')], ['tail'], ['plot', '--metric', 'lr', '--out', join(tempDir(), 'p.svg')]]) {
    const [name, ...rest] = command;
    const r = await cli(name!, dir, ...rest);
    results.push(`${r.code} ${r.err}`);
  }
  assert.deepEqual(results, Array(5).fill(`2 trainledger: ${dir} is a directory, not a trainledger log file`));
});

test('an output path under a regular file gets one line naming it and exit 2', async () => {
  const d = tempDir();
  writeFileSync(join(d, 'file'), 'x');
  const r = await cli('replay', log, '--json', join(d, 'file', 'm.json'));
  assert.equal(r.code, 2);
  assert.equal(r.err, `trainledger: cannot write ${join(d, 'file', 'm.json')}: a parent is not a directory (ENOTDIR)`);
  const p = await cli('plot', log, '--metric', 'lr', '--out', join(d, 'file', 'p.svg'));
  assert.equal(p.code, 2);
  assert.equal(p.err, `trainledger: cannot write ${join(d, 'file', 'p.svg')}: a parent is not a directory (ENOTDIR)`);
});

test('diff --metric with a metric a run did not record fails naming it and listing the metrics it has', async () => {
  const r = await cli('diff', log, log, '--metric', 'nosuch');
  assert.equal(r.code, 2);
  assert.match(r.err, /^trainledger: --metric "nosuch": run 2 of .*runs\.sqlite has no such metric; it has .*total_loss/);
  assert.equal(r.err.split('\n').length, 1);
  const p = await cli('plot', log, '--metric', 'total_loss', 'nosuch', '--out', join(tempDir(), 'p.svg'));
  assert.equal(p.code, 2);
  assert.match(p.err, /^trainledger: --metric "nosuch": run 2 of .*runs\.sqlite has no such metric; it has .*total_loss/);
});

test('a long list of metrics in an error is cut short, saying how many more there are', async () => {
  const { listNames } = await import('../../src/cli/errors.js');
  assert.equal(listNames(['a', 'b', 'c']), 'a, b, c');
  assert.equal(listNames(Array.from({ length: 30 }, (_, i) => `m${i}`)), 'm0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11 and 18 more');
});

test('numeric options are checked up front: one line naming the option, the value and what it expects', async () => {
  const cases: Array<[string[], string]> = [
    [['show', log, '--window', '0'], '--window expects a positive integer, got "0"'],
    [['show', log, '--window', '-3'], '--window expects a positive integer, got "-3"'],
    [['show', log, '--iter', '1.5'], '--iter expects a non-negative integer, got "1.5"'],
    [['show', log, '--iter', '99999999999999999999'], '--iter expects a non-negative integer, got "99999999999999999999"'],
    [['tail', log, '--interval', '0'], '--interval expects a positive integer, got "0"'],
    [['plot', log, '--metric', 'lr', '--out', 'x.svg', '--window', 'NaN'], '--window expects a positive integer, got "NaN"'],
    [['replay', log, '--json', 'x.json', '--period', '0'], '--period expects a positive integer, got "0"'],
    [['replay', log, '--json', 'x.json', '--until', '-1'], '--until expects a non-negative integer, got "-1"'],
    [['diff', log, log, '--tolerance', 'abc'], '--tolerance expects a number >= 0, got "abc"'],
    [['diff', log, log, '--tolerance', '-1'], '--tolerance expects a number >= 0, got "-1"'],
    [['diff', log, log, '--tolerance', 'Infinity'], '--tolerance expects a number >= 0, got "Infinity"'],
    [['diff', log, log, '--tolerance', ''], '--tolerance expects a number >= 0, got ""'],
  ];
  const got: string[] = [];
  for (const [argv] of cases) {
    const r = await cli(...argv);
    got.push(`${r.code} ${r.err}`);
  }
  assert.deepEqual(got, cases.map(([, m]) => `2 trainledger: ${m}`));
});

test('--format accepts only table or json', async () => {
  const got: string[] = [];
  for (const command of ['runs', 'show']) {
    const r = await cli(command, log, '--format', 'xml');
    got.push(`${r.code} ${r.err} ${r.out === ''}`);
  }
  assert.deepEqual(got, Array(2).fill('2 trainledger: --format expects one of table, json; got "xml" true'));
});

test('--run name:1 picks the run named "1", --run 1 and id:1 the run with id 1, and the help says so', async () => {
  const byName = await cli('show', log, '--run', 'name:1', '--format', 'json');
  const byId = await cli('show', log, '--run', '1', '--format', 'json');
  const byIdPrefix = await cli('runs', log, '--format', 'json');
  assert.equal(byName.code, 0, byName.err);
  assert.equal((JSON.parse(byName.out) as { iter: number }).iter, 4);
  assert.equal((JSON.parse(byId.out) as { iter: number }).iter, 6);
  assert.deepEqual((JSON.parse(byIdPrefix.out) as Array<{ id: number; name: string }>).map((r) => [r.id, r.name]), [[1, 'first'], [2, '1']]);
  assert.equal((JSON.parse((await cli('show', log, '--run', 'id:2', '--format', 'json')).out) as { iter: number }).iter, 4);
  const help = await cli('show', '--help');
  assert.match(help.out, /--run <run>\s+run id or name .*name:NAME/s);
});

/** A copy of bin/trainledger.js next to a stand-in dist/cli/main.js (none when `main` is null). */
function binWith(main: string | null): string {
  const d = tempDir();
  mkdirSync(join(d, 'bin'));
  copyFileSync(new URL('../../bin/trainledger.js', import.meta.url), join(d, 'bin', 'trainledger.js'));
  writeFileSync(join(d, 'package.json'), '{"type": "module"}');
  if (main !== null) {
    mkdirSync(join(d, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(d, 'dist', 'cli', 'main.js'), main);
  }
  return d;
}

test('the bin prints one line and exits 2 when the CLI itself cannot load', () => {
  const d = binWith(null);
  const r = spawnSync(process.execPath, [join(d, 'bin', 'trainledger.js'), 'runs', 'x.sqlite'], { encoding: 'utf8' });
  assert.deepEqual([r.status, r.stderr], [2, `trainledger: cannot load the CLI from ${join(d, 'dist', 'cli', 'main.js')} (not built? run npm run build)\n`]);
  const broken = binWith('export const runCli = ;');
  const b = spawnSync(process.execPath, [join(broken, 'bin', 'trainledger.js')], { encoding: 'utf8' });
  assert.deepEqual([b.status, b.stderr], [2, `trainledger: cannot load the CLI from ${join(broken, 'dist', 'cli', 'main.js')}: Unexpected token ';'\n`]);
});

test('the bin turns an error thrown outside a command into one line and exit 2', () => {
  const d = binWith("export async function runCli() { setTimeout(() => { throw new RangeError('late\\nand long'); }); return 0; }");
  const r = spawnSync(process.execPath, [join(d, 'bin', 'trainledger.js')], { encoding: 'utf8' });
  assert.deepEqual([r.status, r.stderr], [2, 'trainledger: internal error: RangeError: late\n']);
});

test('the bin exits quietly when the reader of its output goes away', () => {
  const d = binWith("export async function runCli() { for (let i = 0; i < 5000; i++) process.stdout.write('x'.repeat(1000) + '\\n'); return 0; }");
  const r = spawnSync('bash', ['-c', 'set -o pipefail; "$0" "$1" | head -c 10 >/dev/null', process.execPath, join(d, 'bin', 'trainledger.js')], { encoding: 'utf8' });
  assert.deepEqual([r.status, r.stderr], [0, '']);
});

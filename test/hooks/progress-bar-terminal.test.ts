import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { ProgressBar } from '../../src/hooks/progress-bar.js';
import { TerminalLines } from '../../src/hooks/terminal-lines.js';
import { CallbackHook } from '../../src/hooks/callback-hook.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { CommonMetricPrinter } from '../../src/writers/common-metric-printer.js';
import { simpleTrainer } from './hook-harness.js';
import { renderTerminal } from './vt-screen.js';

const root = join(import.meta.dirname, '..', '..');
const BAR = /[█░]/;

/** Two TTY streams (stdout and stderr) of one terminal: everything written, in order. */
function fakeTerminal(): { out: NodeJS.WriteStream; err: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const tty = (): NodeJS.WriteStream =>
    Object.assign(
      new Writable({
        write(c: Buffer, _e, cb) {
          written.push(c.toString('utf8'));
          cb();
        },
      }),
      { isTTY: true, columns: 100 },
    ) as unknown as NodeJS.WriteStream;
  return { out: tty(), err: tty(), written };
}

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

test('in a pseudo-terminal, bar, printer, console.log and a line written in two parts never overwrite one another, and the summary prints below the final bar', { skip: hasScript ? false : 'script(1) is not installed' }, () => {
  const steps = 200;
  const r = spawnSync('script', ['-qfc', `stty cols 100 rows 30; node --import tsx test/hooks/fixtures/bar-run.ts ${steps}`, '/dev/null'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const joined = renderTerminal(r.stdout, 100, 30);
  const printed = joined.filter((l) => l.includes('iter: '));
  assert.deepEqual(
    printed.map((l) => /^\[trainledger\] {2}eta: \d+:\d\d:\d\d {2}iter: (\d+) {2}total_loss: [\d.]+ {2}time: [\d.]+ {2}last_time: [\d.]+ {2}data_time: [\d.]+ {2}last_data_time: [\d.]+ {2}lr: N\/A$/.exec(l)?.[1] ?? `not a whole printer line: ${l}`),
    ['19', '39', '59', '79', '99', '119', '139', '159', '179', '199'],
  );
  assert.deepEqual(
    joined.filter((l) => /console\.log|two parts/.test(l)),
    ['console.log at step 49', 'a line in two parts: second part', 'console.log at step 99', 'console.log at step 149', 'console.log at step 199'],
  );
  // One bar left on screen, the final one, and the summary below it.
  const bars = joined.filter((l) => BAR.test(l));
  assert.equal(bars.length, 1, `bar frames left on screen:\n${bars.join('\n')}`);
  assert.match(bars[0]!, /^ █{40} 200\/200 iter \| [\d.]+ it\/s \| eta 0s \| total_loss [\d.]+$/);
  assert.deepEqual(joined.slice(-2), [bars[0], `summary: trained ${steps} steps`]);
});

test('TerminalLines prints other lines above the status line and holds the status line back while a line is open', () => {
  const { out, err, written } = fakeTerminal();
  const lines = new TerminalLines(err, [out, err]);
  let frame = 0;
  const draw = (): void => void lines.statusStream.write(`\r[bar ${++frame}]\x1b[0K`);
  lines.install(draw);
  draw();
  out.write('first line\n');
  err.write('a warning\n');
  out.write('open ');
  draw(); // held back: it would land inside the open line
  out.write('and closed\n');
  lines.uninstall();
  assert.deepEqual(renderTerminal(written.join(''), 100, 10), ['first line', 'a warning', 'open and closed', '[bar 5]']);
  assert.deepEqual([Object.hasOwn(out, 'write'), Object.hasOwn(err, 'write')], [false, false]);
});

test('ProgressBar in a (fake) terminal: printer lines above the bar, the final bar last, the streams restored after training', async () => {
  const { out, err, written } = fakeTerminal();
  const { trainer, w } = simpleTrainer();
  const logger = { info: (m: string) => void out.write(`[trainledger] ${m}\n`), warn: (m: string) => void err.write(`[trainledger] WARNING ${m}\n`) };
  trainer.register(new ProgressBar({ stream: err, shared: [out, err] }), new PeriodicWriter([new CommonMetricPrinter(30, { logger })], 10));
  await trainer.train(0, 30);
  w.dispose();
  const screen = renderTerminal(written.join(''), 200, 10);
  assert.deepEqual(
    screen.map((l) => (BAR.test(l) ? l.replace(/^ ([█░]{40}) (\d+\/\d+) iter .*$/, 'bar $2') : (/iter: (\d+)/.exec(l)?.[0] ?? l))),
    ['iter: 9', 'iter: 19', 'iter: 29', 'bar 30/30'],
  );
  assert.deepEqual([Object.hasOwn(out, 'write'), Object.hasOwn(err, 'write')], [false, false]);
});

test('when the stream is not a TTY the bar is off and nobody\'s write is wrapped', async () => {
  const { trainer, w } = simpleTrainer();
  const seen: boolean[] = [];
  const stdoutWrite = process.stdout.write;
  const bar = new ProgressBar({ stream: { isTTY: false } as NodeJS.WriteStream });
  trainer.register(bar, new CallbackHook({ afterStep: () => void seen.push(process.stdout.write === stdoutWrite) }));
  await trainer.train(0, 3);
  w.dispose();
  assert.deepEqual([bar.enabled, seen], [false, [true, true, true]]);
});

test('forced on for a stream that is not a TTY, the bar writes a frame a line and no control codes', async () => {
  const written: string[] = [];
  const plain = new Writable({
    write(c: Buffer, _e, cb) {
      written.push(c.toString('utf8'));
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  const { trainer, w } = simpleTrainer();
  trainer.register(new ProgressBar({ stream: plain, enabled: true }));
  await trainer.train(0, 5);
  w.dispose();
  const text = written.join('');
  assert.deepEqual([/\x1b/.test(text), text.split('\n').filter((l) => BAR.test(l)).at(-1)?.replace(/\|.*$/, '')], [false, ` ${'█'.repeat(40)} 5/5 iter `]);
});

test('a shared stream that is not a TTY (stdout redirected to a file or pipe) is left alone while the bar is shown', () => {
  const { err, written } = fakeTerminal();
  const piped: string[] = [];
  const file = new Writable({
    write(c: Buffer, _e, cb) {
      piped.push(c.toString('utf8'));
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  const lines = new TerminalLines(err, [file, err]);
  lines.install(() => void lines.statusStream.write('\r[bar]\x1b[0K'));
  const wrapped = Object.hasOwn(file, 'write');
  file.write('to the file\n');
  lines.uninstall();
  assert.deepEqual([wrapped, piped, written], [false, ['to the file\n'], []]);
});

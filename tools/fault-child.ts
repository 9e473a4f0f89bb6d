/**
 * Helpers of tools/fault-matrix.ts and tools/crash-test.ts, and the non-training child
 * processes of the fault matrix (the training child is tools/crash-child.ts).
 *
 *   node --import tsx tools/fault-child.ts cli <trainledger args...>
 *     the `trainledger` CLI, from src/ (so a change in src/ is tested without a build)
 *   node --import tsx tools/fault-child.ts cli-batch <commands.json>
 *     several CLI commands (a JSON array of argument arrays), run in turn in this one process;
 *     prints a JSON array of {code, out, err}
 *   node --import tsx tools/fault-child.ts flips <config.json>
 *     byte-flip trials: for each, flip one byte of a pristine log, replay + export it, and
 *     print one JSON line {i, outcome: same|detected|silent|crash, detail}
 *
 * Imported, it runs nothing.
 */
import { readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

// ---------------------------------------------------------------------------------------------
// Where a process's threads are blocked: /proc/<pid>/task/<tid>/syscall names the system call
// a sleeping thread is in and its arguments (root, or the process's owner with ptrace rights).

export interface IoActivity {
  readonly tid: number;
  readonly kind: 'write' | 'sync';
  /** The file the call works on (fd resolved through /proc/<pid>/fd). */
  readonly path: string;
}

const SYSCALLS: Record<string, { readonly write: readonly number[]; readonly sync: readonly number[] }> = {
  // write, pwrite64, writev, pwritev, pwritev2 | fsync, fdatasync
  x64: { write: [1, 18, 20, 296, 328], sync: [74, 75] },
  arm64: { write: [64, 68, 66, 70, 287], sync: [82, 83] },
};

/**
 * Threads of `pid` blocked in a write or fsync, with the file. Null when /proc cannot tell
 * (not Linux, another architecture, no permission): callers then kill at random moments.
 */
export function ioActivity(pid: number): IoActivity[] | null {
  const table = SYSCALLS[process.arch];
  if (table === undefined) return null;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const out: IoActivity[] = [];
  for (const tid of tids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'latin1');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES' || (e as NodeJS.ErrnoException).code === 'EPERM') return null;
      continue; // the thread ended
    }
    if (text.startsWith('running') || text.startsWith('-1')) continue;
    const [nr, a0] = text.split(' ');
    const n = Number(nr);
    const kind = table.write.includes(n) ? 'write' : table.sync.includes(n) ? 'sync' : null;
    if (kind === null) continue;
    let path = '';
    try {
      path = readlinkSync(`/proc/${pid}/fd/${parseInt(a0!, 16)}`);
    } catch {
      // closed meanwhile
    }
    out.push({ tid: Number(tid), kind, path: path.replace(/ \(deleted\)$/, '') });
  }
  return out;
}

/** Blocks the thread for `ms` (fractions allowed): the fault matrix's tight polling loops. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** What a kill at this moment interrupts, from the threads' I/O (see ioActivity). */
export function phaseOf(activity: readonly IoActivity[] | null, files: { readonly log: string; readonly ckptDir: string }): string {
  if (activity === null) return 'unknown';
  const on = (p: string) => activity.filter((a) => a.path === p);
  if (on(files.log).length > 0) return 'wal-checkpoint';
  if (on(`${files.log}-wal`).length > 0) return 'commit';
  if (activity.some((a) => a.path.startsWith(`${files.ckptDir}/`))) return 'model-checkpoint';
  return 'step';
}

// ---------------------------------------------------------------------------------------------
// The WAL's structure, for cutting it: a 32-byte header, then frames of a 24-byte header and a
// page. A frame whose header has a non-zero "database size" closes a transaction.

export interface WalFrames {
  readonly pageSize: number;
  /** End offset of each commit frame, in order, while the frames' salts match the header's. */
  readonly commitEnds: readonly number[];
}

export function walFrames(wal: Buffer): WalFrames {
  if (wal.length < 32) return { pageSize: 0, commitEnds: [] };
  const pageSize = wal.readUInt32BE(8);
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  const commitEnds: number[] = [];
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break;
    if (wal.readUInt32BE(at + 4) !== 0) commitEnds.push(at + 24 + pageSize);
  }
  return { pageSize, commitEnds };
}

// ---------------------------------------------------------------------------------------------
// A replayed state as text, every sample of every metric, numbers exactly (NaN, -0 included).

export function stateText(state: { iter: number; info: { status: string }; metrics: { names: readonly string[]; hints: readonly boolean[]; histories: ReadonlyArray<{ values(): Array<readonly [number, number]> }> } }): string {
  const m = state.metrics;
  return JSON.stringify(
    { iter: state.iter, status: state.info.status, metrics: m.names.map((n, i) => [n, m.hints[i], m.histories[i]!.values()]) },
    (_k, v: unknown) => (typeof v === 'number' ? (Object.is(v, -0) ? '-0' : String(v)) : v),
  );
}

// ---------------------------------------------------------------------------------------------
// Child modes.

export interface FlipTrial {
  readonly i: number;
  /** Byte offset in the file. */
  readonly offset: number;
  /** XOR mask, 1..255. */
  readonly mask: number;
}

export interface FlipConfig {
  /** The pristine log (checkpointed: no WAL). */
  readonly base: string;
  /** A folder of this worker's own. */
  readonly work: string;
  readonly runName: string;
  readonly trials: readonly FlipTrial[];
}

async function flips(configPath: string): Promise<void> {
  const cfg = JSON.parse(readFileSync(configPath, 'utf8')) as FlipConfig;
  const { LogFile } = await import('../src/log/log-file.js');
  const { exportRun } = await import('../src/cli/export-run.js');
  const { TrainledgerError } = await import('../src/errors/trainledger-error.js');
  const pristine = readFileSync(cfg.base);
  const path = join(cfg.work, 'log.sqlite');
  const out = join(cfg.work, 'metrics.json');
  /** Whether the flipped file still opened and listed its runs (else the whole log is lost). */
  let opened = false;
  const read = (): { exported: string; state: string } => {
    for (const f of [`${path}-wal`, `${path}-shm`, out]) rmSync(f, { force: true });
    opened = false;
    const log = LogFile.open(path, { readonly: true });
    try {
      const runId = log.run(cfg.runName).id;
      opened = true;
      const { state } = exportRun(log, runId, { json: out });
      return { exported: readFileSync(out, 'utf8'), state: stateText(state) };
    } finally {
      log.close();
    }
  };
  writeFileSync(path, pristine);
  const baseline = read();
  for (const t of cfg.trials) {
    const bytes = Buffer.from(pristine);
    bytes[t.offset] = bytes[t.offset]! ^ t.mask;
    writeFileSync(path, bytes);
    let line: Record<string, unknown>;
    try {
      const got = read();
      const same = got.exported === baseline.exported && got.state === baseline.state;
      let detail = '';
      if (!same) {
        const a = baseline.exported.split('\n');
        const b = got.exported.split('\n');
        const k = a.findIndex((l, j) => b[j] !== l);
        detail = got.exported === baseline.exported ? 'the replayed state differs (the export is equal)' : `the export differs from line ${k + 1} on (${b.length - 1} lines, not ${a.length - 1}): ${(b[k] ?? '(none)').slice(0, 160)}`;
      }
      line = { i: t.i, opened, outcome: same ? 'same' : 'silent', detail };
    } catch (e) {
      const typed = e instanceof TrainledgerError;
      line = { i: t.i, opened, outcome: typed ? 'detected' : 'crash', detail: `${(e as Error)?.constructor?.name ?? typeof e}${(e as { code?: string })?.code ? `(${(e as { code?: string }).code})` : ''}: ${String((e as Error)?.message ?? e).slice(0, 200)}` };
    }
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

async function cli(args: string[]): Promise<void> {
  const { runCli } = await import('../src/cli/main.js');
  process.exitCode = await runCli(args);
}

/** Several CLI commands in one process (one start-up instead of one each): a JSON array out. */
async function cliBatch(configPath: string): Promise<void> {
  const { runCli } = await import('../src/cli/main.js');
  const commands = JSON.parse(readFileSync(configPath, 'utf8')) as string[][];
  const results: Array<{ code: number; out: string; err: string }> = [];
  for (const args of commands) {
    const out: string[] = [];
    const err: string[] = [];
    let code: number;
    try {
      code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
    } catch (e) {
      code = 1;
      err.push(String((e as Error)?.stack ?? e));
    }
    results.push({ code, out: out.join('\n'), err: err.join('\n') });
  }
  process.stdout.write(JSON.stringify(results));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'cli') await cli(rest);
  else if (mode === 'cli-batch') await cliBatch(rest[0]!);
  else if (mode === 'flips') await flips(rest[0]!);
  else {
    process.stderr.write('usage: fault-child.ts cli <args...> | cli-batch <commands.json> | flips <config.json>\n');
    process.exitCode = 2;
  }
}

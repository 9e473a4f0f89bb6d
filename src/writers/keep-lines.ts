import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A new version of a file, written beside it and put in its place in one rename. */
export interface FileReplacement {
  /** The file the new version replaces (or creates). */
  readonly path: string;
  /** Where to write the new version: a hidden copy in the same folder, so the rename is atomic. */
  readonly tmp: string;
  /** Renames the copy over `path` (an empty file when nothing was written to the copy). */
  commit(): void;
  /** Removes the copy; `path` stays as it was. */
  abandon(): void;
}

/**
 * Starts replacing `path` through a copy (`.<name>.tmp-<pid>`, or `tmpPrefix` + pid): a process
 * killed meanwhile leaves the old file or the new one, never a cut one. Copies with the same
 * prefix that a killed process left are removed first. The copy is not created here, so a
 * writer may create it exclusively.
 *
 * @example
 * ```ts
 * const r = startReplacement('out/metrics.json');
 * try { writeFileSync(r.tmp, text); r.commit(); } catch (e) { r.abandon(); throw e; }
 * ```
 */
export function startReplacement(path: string, tmpPrefix = `.${basename(path)}.tmp-`): FileReplacement {
  const dir = dirname(path);
  // A process killed between writing its copy and the rename left that copy: remove it.
  for (const name of readdirSync(dir)) if (name.startsWith(tmpPrefix)) rmSync(join(dir, name), { force: true });
  const tmp = join(dir, tmpPrefix + process.pid);
  return {
    path,
    tmp,
    commit: () => {
      if (!existsSync(tmp)) writeFileSync(tmp, '');
      renameSync(tmp, path);
    },
    abandon: () => rmSync(tmp, { force: true }),
  };
}

/**
 * Keeps only the lines of a text file that `keep` accepts (by content and position), replacing
 * the file in one rename (see `startReplacement`): the lines a writer's committed cursor vouches
 * for survive any kill. A path with nothing there, or no regular file, is left alone (opening it
 * fails later, naming it).
 *
 * @example
 * ```ts
 * keepLines('out/metrics.json', (line) => lineIteration(line) <= 19);
 * ```
 */
export function keepLines(path: string, keep: (line: string, index: number) => boolean): void {
  if (statSync(path, { throwIfNoEntry: false })?.isFile() !== true) return;
  const replacement = startReplacement(path);
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const kept = lines.filter((line, i) => line.length > 0 && keep(line, i));
  if (kept.length === lines.length) return; // nothing to drop: no rewrite
  try {
    writeFileSync(replacement.tmp, kept.map((l) => l + '\n').join(''));
    replacement.commit();
  } catch (e) {
    replacement.abandon();
    throw e;
  }
}

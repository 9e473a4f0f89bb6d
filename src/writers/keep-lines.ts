import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Keeps only the lines of a text file that `keep` accepts (by content and position), replacing
 * the file in one rename so that a process killed meanwhile leaves the old file or the new one,
 * never a cut one: the lines a writer's committed cursor vouches for survive any kill (a copy a
 * killed process left, `.<name>.tmp-<pid>`, is removed by the next call). A path
 * with nothing there, or no regular file, is left alone (opening it fails later, naming it).
 *
 * @example
 * ```ts
 * keepLines('out/metrics.json', (line) => lineIteration(line) <= 19);
 * ```
 */
export function keepLines(path: string, keep: (line: string, index: number) => boolean): void {
  if (statSync(path, { throwIfNoEntry: false })?.isFile() !== true) return;
  // A process killed between writing its copy and the rename left that copy: remove it.
  const prefix = `.${basename(path)}.tmp-`;
  for (const name of readdirSync(dirname(path))) if (name.startsWith(prefix)) rmSync(join(dirname(path), name), { force: true });
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const kept = lines.filter((line, i) => line.length > 0 && keep(line, i));
  if (kept.length === lines.length) return; // nothing to drop: no rewrite
  const tmp = join(dirname(path), prefix + process.pid);
  try {
    writeFileSync(tmp, kept.map((l) => l + '\n').join(''));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

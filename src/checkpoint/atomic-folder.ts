import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processIsAlive } from '../util/process-alive.js';
import { compareText } from '../util/compare-text.js';
import { fsyncDirectory } from './durable-fs.js';

/**
 * Folders that appear under their name all at once: filled in a hidden sibling, then renamed.
 * Hidden siblings are named `.<name>.<kind>-<pid>-<hex>`: tmp = being filled, old = displaced by
 * a replace, trash = being removed; {@link removeLeftovers} cleans up after a crash.
 */
const LEFTOVER_PATTERN = /^\.(.+)\.(tmp|old|trash)-(\d+)-([0-9a-f]+)$/;
const REPLACE_ATTEMPTS = 3;

// Leftover-looking folders that this process is still working on, so that removeLeftovers
// (from any store instance) never deletes them underneath a running save.
const inFlight = new Set<string>();

/** What {@link removeLeftovers} did. */
export interface CleanTempResult {
  /** Leftover directories that were deleted. */
  readonly removed: readonly string[];
  /** Checkpoints put back under their name after a crash in the middle of replacing them. */
  readonly restored: readonly string[];
}

/**
 * Fills a fresh hidden folder beside `dir/<name>` with `fill`, which publishes it (see
 * {@link publishFolder}) before it returns; on failure the folder is deleted.
 *
 * @example
 * ```ts
 * await withTempFolder(dir, 'iter-5', async (tmp) => { await writeFiles(tmp); await publishFolder(dir, 'iter-5', tmp); });
 * ```
 */
export async function withTempFolder<T>(dir: string, name: string, fill: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = join(dir, `.${name}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  inFlight.add(tmp);
  try {
    await mkdir(tmp);
    return await fill(tmp);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  } finally {
    inFlight.delete(tmp);
  }
}

/**
 * Renames the finished folder `tmp` to `dir/<name>`. rename() cannot replace a non-empty
 * directory, so an existing folder is first moved aside (removeLeftovers restores it if we crash
 * in between) and deleted once the new one is in place.
 *
 * @example
 * ```ts
 * await publishFolder('/runs/ckpt', 'iter-5', '/runs/ckpt/.iter-5.tmp-42-0a1b2c3d4e5f');
 * ```
 */
export async function publishFolder(dir: string, name: string, tmp: string): Promise<void> {
  const final = join(dir, name);
  const displaced: string[] = [];
  try {
    for (let attempt = 1; ; attempt++) {
      const aside = await moveAside(dir, name, 'old');
      if (aside !== undefined) {
        displaced.push(aside);
        inFlight.add(aside);
      }
      try {
        await rename(tmp, final);
        break;
      } catch (error) {
        // Another writer put something under the name between our two renames.
        const code = (error as NodeJS.ErrnoException).code;
        if (attempt >= REPLACE_ATTEMPTS || (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM')) {
          const previous = displaced.pop();
          if (previous !== undefined && !existsSync(final)) await rename(previous, final);
          if (previous !== undefined) inFlight.delete(previous);
          throw error;
        }
      }
    }
    await fsyncDirectory(dir);
    for (const path of displaced) await rm(path, { recursive: true, force: true });
  } finally {
    for (const path of displaced) inFlight.delete(path);
  }
}

/**
 * Renames `dir/<name>` to a hidden sibling of `kind`; returns its path, or `undefined` when
 * there is nothing under the name.
 *
 * @example
 * ```ts
 * const trash = await moveAside(dir, 'iter-5', 'trash');
 * ```
 */
export async function moveAside(dir: string, name: string, kind: 'old' | 'trash'): Promise<string | undefined> {
  const aside = join(dir, `.${name}.${kind}-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await rename(join(dir, name), aside);
    return aside;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Removes the hidden siblings that crashed saves and removals left in `dir`. A displaced
 * folder whose name is free again and that `restorable(name, path)` accepts is put back under
 * its name instead. Leftovers still in use in this process, or by another live process (by the
 * pid in their name), are left alone.
 *
 * @example
 * ```ts
 * const { removed, restored } = await removeLeftovers(dir, (name, path) => isComplete(path, name));
 * ```
 */
export async function removeLeftovers(dir: string, restorable: (name: string, path: string) => boolean): Promise<CleanTempResult> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { removed: [], restored: [] };
    throw error;
  }
  const removed: string[] = [];
  const restored: string[] = [];
  for (const entry of entries.sort(compareText)) {
    const leftover = parseLeftover(entry);
    if (leftover === undefined) continue;
    const { name, kind, pid } = leftover;
    const path = join(dir, entry);
    if (inFlight.has(path) || (pid !== process.pid && processIsAlive(pid))) continue;
    const final = join(dir, name);
    if (kind === 'old' && !existsSync(final) && restorable(name, path)) {
      await rename(path, final);
      restored.push(final);
    } else {
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    }
  }
  if (removed.length > 0 || restored.length > 0) await fsyncDirectory(dir);
  return { removed, restored };
}

function parseLeftover(entry: string): { name: string; kind: string; pid: number } | undefined {
  const match = LEFTOVER_PATTERN.exec(entry);
  if (match === null) return undefined;
  const [, name, kind, pidText] = match;
  // All three groups are mandatory in the pattern, so a match always has them.
  if (name === undefined || kind === undefined || pidText === undefined) return undefined;
  return { name, kind, pid: Number(pidText) };
}

function existsSync(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

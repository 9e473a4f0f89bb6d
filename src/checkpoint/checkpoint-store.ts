import { readdirSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../errors/index.js';
import { compareText } from '../util/compare-text.js';
import { moveAside, publishFolder, removeLeftovers, withTempFolder, type CleanTempResult } from './atomic-folder.js';
import {
  MANIFEST_FILE,
  STATE_FILE,
  infoFrom,
  inspectSync,
  parseManifestOrThrow,
  type CheckpointInfo,
  type CheckpointManifest,
} from './checkpoint-manifest.js';
import { fsyncDirectory, syncAndDigestFile, writeFileDurable, type FileDigest } from './durable-fs.js';
import { CheckpointCorruptError, CheckpointNotFoundError } from './errors.js';
import { prepareModel, writeModel, type CheckpointModel } from './model-restore.js';
import { prepareOptimizer, writeOptimizer } from './optimizer-restore.js';
import { parseJsonOrThrow, readVerified } from './verified-files.js';

/** What {@link CheckpointStore.save} writes. `state` must survive `JSON.stringify`. */
export interface CheckpointContent {
  readonly model?: CheckpointModel;
  readonly optimizer?: tf.Optimizer;
  readonly state: unknown;
}

/** Objects {@link CheckpointStore.load} restores in place. */
export interface CheckpointTarget {
  readonly model?: CheckpointModel;
  readonly optimizer?: tf.Optimizer;
}

const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.@+=-]{0,199}$/;

/**
 * Saves and restores training checkpoints (model weights, optimizer state, JSON state) as
 * directories under `dir`. Saves are atomic: everything is written and fsynced in a hidden
 * temp directory, a manifest with the size and SHA-256 of every file is written last, and the
 * directory is then renamed into place; loads verify the manifest before touching any tensor.
 * A crash therefore leaves either the previous checkpoint, the new one, or nothing under a
 * name, plus hidden leftovers that {@link CheckpointStore.cleanTemp} removes.
 *
 * One writer per name at a time is assumed across processes; saves within a process may overlap.
 *
 * @example
 * ```ts
 * const store = new CheckpointStore('runs/exp1/checkpoints');
 * await store.save('iter-1000', { model, optimizer, state: { iteration: 1000 } });
 * const { state } = await store.load(store.latest()!.name, { model, optimizer });
 * ```
 */
export class CheckpointStore {
  /** Absolute path of the directory holding the checkpoints. */
  readonly dir: string;

  constructor(dir: string) {
    if (typeof dir !== 'string' || dir.length === 0) {
      throw new InvalidArgumentError(`checkpoint directory is ${JSON.stringify(dir)}; expected a non-empty path`);
    }
    this.dir = resolve(dir);
  }

  /**
   * Writes `dir/<name>/` atomically, replacing an existing checkpoint of that name.
   *
   * @example
   * ```ts
   * const info = await store.save('iter-500', { model, optimizer, state: { iteration: 500 } });
   * ```
   */
  async save(name: string, content: CheckpointContent): Promise<CheckpointInfo> {
    assertName(name);
    const stateJson = serializeState(content.state);
    await mkdir(this.dir, { recursive: true });
    return withTempFolder(this.dir, name, async (tmp) => {
      const model = await writeModel(tmp, content.model);
      const optimizer = content.optimizer === undefined ? null : await writeOptimizer(tmp, content.optimizer);
      await writeFileDurable(join(tmp, STATE_FILE), stateJson);
      const files: Record<string, FileDigest> = {};
      for (const entry of (await readdir(tmp, { withFileTypes: true })).sort((a, b) => compareText(a.name, b.name))) {
        if (entry.isFile()) files[entry.name] = await syncAndDigestFile(join(tmp, entry.name));
      }
      const manifest: CheckpointManifest = {
        format: 'trainledger-checkpoint',
        version: 1,
        name,
        createdAt: new Date().toISOString(),
        iteration: iterationOf(content.state) ?? null,
        model,
        optimizer,
        files,
      };
      const manifestText = JSON.stringify(manifest, null, 2);
      await writeFileDurable(join(tmp, MANIFEST_FILE), manifestText);
      await fsyncDirectory(tmp);
      await publishFolder(this.dir, name, tmp);
      return infoFrom(manifest, join(this.dir, name), Buffer.byteLength(manifestText));
    });
  }

  /**
   * Verifies checkpoint `name` (manifest, sizes, SHA-256) and then restores the model weights
   * and optimizer state into `into`. A LayersModel is restored by position (the order of
   * `model.weights`), so a fresh model of the same architecture fits even though its
   * auto-generated layer names differ; a variable record must have exactly the saved keys.
   * Everything is decoded and checked before anything is assigned.
   *
   * @example
   * ```ts
   * const { state, info } = await store.load('iter-500', { model, optimizer });
   * ```
   */
  async load(name: string, into: CheckpointTarget = {}): Promise<{ state: unknown; info: CheckpointInfo }> {
    assertName(name);
    const path = join(this.dir, name);
    const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
    if (!isDir) throw new CheckpointNotFoundError(name, path);
    const manifestPath = join(path, MANIFEST_FILE);
    let manifestBytes: Buffer;
    try {
      manifestBytes = await readFile(manifestPath);
    } catch (cause) {
      throw new CheckpointCorruptError(name, manifestPath, 'cannot be read; the manifest is written last, so the save did not finish', { cause });
    }
    const manifest = parseManifestOrThrow(name, manifestPath, manifestBytes);
    const files = await readVerified(name, path, manifest);
    const state = parseJsonOrThrow(name, join(path, STATE_FILE), files);

    const owned: tf.Tensor[] = [];
    try {
      const applyModel = into.model === undefined ? undefined : await prepareModel(name, path, manifest, files, into.model, owned);
      const applyOptimizer = into.optimizer === undefined ? undefined : prepareOptimizer(name, path, manifest, files, into.optimizer, owned);
      applyModel?.();
      await applyOptimizer?.();
    } finally {
      tf.dispose(owned);
    }
    return { state, info: infoFrom({ ...manifest, name }, path, manifestBytes.byteLength) };
  }

  /**
   * Complete checkpoints, oldest first (by creation time). Hidden leftovers and directories
   * whose manifest is missing, malformed or disagrees with the file sizes are skipped;
   * checksums are only verified by {@link CheckpointStore.load}.
   *
   * @example
   * ```ts
   * for (const c of store.list()) console.log(c.name, c.iteration, c.bytes);
   * ```
   */
  list(): CheckpointInfo[] {
    let entries;
    try {
      entries = readdirSync(this.dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const infos: CheckpointInfo[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || !NAME_PATTERN.test(entry.name)) continue;
      const info = inspectSync(join(this.dir, entry.name), entry.name);
      if (info !== undefined) infos.push(info);
    }
    return infos.sort(
      (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.iteration ?? -Infinity) - (b.iteration ?? -Infinity) || compareText(a.name, b.name),
    );
  }

  /**
   * The most recently created complete checkpoint, or `undefined` when there is none.
   *
   * @example
   * ```ts
   * const last = store.latest();
   * if (last) await store.load(last.name, { model, optimizer });
   * ```
   */
  latest(): CheckpointInfo | undefined {
    return this.list().at(-1);
  }

  /**
   * Deletes checkpoint `name`. It disappears atomically (renamed to a hidden name first).
   *
   * @example
   * ```ts
   * await store.remove('iter-500');
   * ```
   */
  async remove(name: string): Promise<void> {
    assertName(name);
    const path = join(this.dir, name);
    const trash = await moveAside(this.dir, name, 'trash');
    if (trash === undefined) throw new CheckpointNotFoundError(name, path);
    await fsyncDirectory(this.dir);
    await rm(trash, { recursive: true, force: true });
  }

  /**
   * Removes what crashed saves and removals left behind. A checkpoint that was displaced by a
   * replace which never completed is restored under its name instead. Leftovers of saves
   * still running in this process, or in another live process (by the pid in their name),
   * are left alone.
   *
   * @example
   * ```ts
   * const { removed, restored } = await store.cleanTemp();
   * ```
   */
  async cleanTemp(): Promise<CleanTempResult> {
    return removeLeftovers(this.dir, (name, path) => NAME_PATTERN.test(name) && inspectSync(path, name) !== undefined);
  }
}

function assertName(name: string): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError(
      `checkpoint name ${JSON.stringify(name)} is invalid; expected 1-200 characters from [A-Za-z0-9_.@+=-], not starting with "." or "-"`,
    );
  }
}

function serializeState(state: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(state);
  } catch (cause) {
    throw new InvalidArgumentError(`checkpoint state cannot be serialized (${(cause as Error).message}); expected JSON-compatible data`, { cause });
  }
  if (text === undefined) throw new InvalidArgumentError(`checkpoint state is ${typeof state}; expected JSON-compatible data`);
  return text;
}

function iterationOf(state: unknown): number | undefined {
  if (typeof state !== 'object' || state === null) return undefined;
  const iteration = (state as { iteration?: unknown }).iteration;
  return typeof iteration === 'number' && Number.isFinite(iteration) ? iteration : undefined;
}

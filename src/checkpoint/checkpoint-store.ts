import { randomBytes, createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../errors/index.js';
import { CheckpointCorruptError, CheckpointMismatchError, CheckpointNotFoundError } from './errors.js';
import { processIsAlive } from '../util/process-alive.js';
import { MANIFEST_FILE, manifestProblem, type CheckpointManifest, type CheckpointModelKind } from './checkpoint-manifest.js';
import { fsyncDirectory, syncAndDigestFile, writeFileDurable, type FileDigest } from './durable-fs.js';
import { decodeWeightsInOrder, encodeNamedWeights, weightsFileProblem, type NamedWeight, type WeightsFileJson } from './named-weights.js';
import { MODEL_JSON_FILE, WEIGHTS_BIN_FILE, modelArtifactsFromJson, nodeFileIO, parseModelJson } from './node-file-io.js';

/** The model part of a checkpoint: a LayersModel, or variables keyed by a stable name. */
export type CheckpointModel = tf.LayersModel | Readonly<Record<string, tf.Variable>>;

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

/** Description of one complete checkpoint. */
export interface CheckpointInfo {
  readonly name: string;
  /** Absolute path of the checkpoint directory. */
  readonly path: string;
  /** `state.iteration`, when the saved state had a finite numeric one. */
  readonly iteration?: number;
  readonly createdAt: Date;
  /** Total size of the checkpoint's files, manifest included. */
  readonly bytes: number;
  readonly model: CheckpointModelKind | null;
  /** Class name of the saved optimizer, or null when none was saved. */
  readonly optimizer: string | null;
}

/** What {@link CheckpointStore.cleanTemp} did. */
export interface CleanTempResult {
  /** Leftover directories that were deleted. */
  readonly removed: readonly string[];
  /** Checkpoints put back under their name after a crash in the middle of replacing them. */
  readonly restored: readonly string[];
}

const STATE_FILE = 'state.json';
const VARIABLES_JSON_FILE = 'variables.json';
const VARIABLES_BIN_FILE = 'variables.bin';
const OPTIMIZER_JSON_FILE = 'optimizer.json';
const OPTIMIZER_BIN_FILE = 'optimizer.bin';
const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.@+=-]{0,199}$/;
// `.<name>.<kind>-<pid>-<hex>`: tmp = save in progress, old = displaced by a replace, trash = being removed.
const LEFTOVER_PATTERN = /^\.(.+)\.(tmp|old|trash)-(\d+)-([0-9a-f]+)$/;
const REPLACE_ATTEMPTS = 3;

// Leftover-looking directories that a store in this process is still working on, so that
// cleanTemp (from any instance) never deletes them underneath a running save.
const inFlight = new Set<string>();

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
    const tmp = join(this.dir, `.${name}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    inFlight.add(tmp);
    try {
      await mkdir(tmp);
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
      await this.#publish(name, tmp);
      return infoFrom(manifest, join(this.dir, name), Buffer.byteLength(manifestText));
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      throw error;
    } finally {
      inFlight.delete(tmp);
    }
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
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { removed: [], restored: [] };
      throw error;
    }
    const removed: string[] = [];
    const restored: string[] = [];
    for (const entry of entries.sort(compareText)) {
      const match = LEFTOVER_PATTERN.exec(entry);
      if (match === null) continue;
      const [, name, kind, pidText] = match;
      const path = join(this.dir, entry);
      if (inFlight.has(path) || (Number(pidText) !== process.pid && processIsAlive(Number(pidText)))) continue;
      const final = join(this.dir, name);
      if (kind === 'old' && NAME_PATTERN.test(name) && !existsSync(final) && inspectSync(path, name) !== undefined) {
        await rename(path, final);
        restored.push(final);
      } else {
        await rm(path, { recursive: true, force: true });
        removed.push(path);
      }
    }
    if (removed.length > 0 || restored.length > 0) await fsyncDirectory(this.dir);
    return { removed, restored };
  }

  // Renames the finished temp directory to its final name. rename() cannot replace a
  // non-empty directory, so an existing checkpoint is first moved aside (cleanTemp restores
  // it if we crash in between) and deleted once the new one is in place.
  async #publish(name: string, tmp: string): Promise<void> {
    const final = join(this.dir, name);
    const displaced: string[] = [];
    try {
      for (let attempt = 1; ; attempt++) {
        const aside = await moveAside(this.dir, name, 'old');
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
      await fsyncDirectory(this.dir);
      for (const path of displaced) await rm(path, { recursive: true, force: true });
    } finally {
      for (const path of displaced) inFlight.delete(path);
    }
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

function isLayersModel(model: CheckpointModel): model is tf.LayersModel {
  if (model instanceof tf.LayersModel) return true;
  // Duck typing covers a LayersModel from a second copy of tfjs.
  const candidate = model as Partial<tf.LayersModel>;
  return typeof candidate.save === 'function' && typeof candidate.setWeights === 'function' && typeof candidate.getWeights === 'function';
}

function isVariable(value: unknown): value is tf.Variable {
  return value instanceof tf.Variable || (value instanceof tf.Tensor && typeof (value as Partial<tf.Variable>).assign === 'function');
}

async function writeModel(dir: string, model: CheckpointModel | undefined): Promise<CheckpointModelKind | null> {
  if (model === undefined) return null;
  if (isLayersModel(model)) {
    await model.save(nodeFileIO(dir));
    return 'layers-model';
  }
  for (const [key, value] of Object.entries(model)) {
    if (!isVariable(value)) {
      throw new InvalidArgumentError(`checkpoint model["${key}"] is ${describe(value)}; expected a tf.Variable (or pass a tf.LayersModel)`);
    }
  }
  const { json, data } = await encodeNamedWeights(Object.entries(model).map(([name, tensor]) => ({ name, tensor })));
  await writeFileDurable(join(dir, VARIABLES_BIN_FILE), data);
  await writeFileDurable(join(dir, VARIABLES_JSON_FILE), JSON.stringify(json));
  return 'variables';
}

async function writeOptimizer(dir: string, optimizer: tf.Optimizer): Promise<string> {
  const weights = await optimizer.getWeights();
  try {
    const className = optimizer.getClassName();
    const { json, data } = await encodeNamedWeights(weights, { className, config: optimizer.getConfig() });
    await writeFileDurable(join(dir, OPTIMIZER_BIN_FILE), data);
    await writeFileDurable(join(dir, OPTIMIZER_JSON_FILE), JSON.stringify(json));
    return className;
  } finally {
    disposeTemporaries(weights);
  }
}

// getWeights() hands out the optimizer's own slot variables plus freshly created tensors
// (the iteration counter); only the latter belong to us.
function disposeTemporaries(weights: readonly NamedWeight[], keep: ReadonlySet<tf.Tensor> = new Set()): void {
  for (const { tensor } of weights) {
    if (!(tensor instanceof tf.Variable) && !keep.has(tensor) && !tensor.isDisposed) tensor.dispose();
  }
}

function requiredFiles(manifest: CheckpointManifest): string[] {
  const files = [STATE_FILE];
  if (manifest.model === 'layers-model') files.push(MODEL_JSON_FILE, WEIGHTS_BIN_FILE);
  if (manifest.model === 'variables') files.push(VARIABLES_JSON_FILE, VARIABLES_BIN_FILE);
  if (manifest.optimizer !== null) files.push(OPTIMIZER_JSON_FILE, OPTIMIZER_BIN_FILE);
  return files;
}

function parseManifestOrThrow(name: string, manifestPath: string, bytes: Buffer): CheckpointManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new CheckpointCorruptError(name, manifestPath, 'is not valid JSON', { cause });
  }
  const problem = manifestProblem(json);
  if (problem !== undefined) throw new CheckpointCorruptError(name, manifestPath, problem);
  const manifest = json as CheckpointManifest;
  const missing = requiredFiles(manifest).find((file) => !(file in manifest.files));
  if (missing !== undefined) throw new CheckpointCorruptError(name, manifestPath, `does not list ${missing}, which its contents require`);
  return manifest;
}

// Reads every listed file once and checks it; the verified bytes are what gets decoded,
// so a file changing between check and use cannot slip through.
async function readVerified(name: string, dir: string, manifest: CheckpointManifest): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const [file, expected] of Object.entries(manifest.files)) {
    const path = join(dir, file);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (cause) {
      throw new CheckpointCorruptError(name, path, `cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)}); the manifest lists it`, { cause });
    }
    if (bytes.byteLength !== expected.bytes) {
      throw new CheckpointCorruptError(name, path, `has ${bytes.byteLength} bytes; the manifest records ${expected.bytes}`);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== expected.sha256) {
      throw new CheckpointCorruptError(name, path, `has SHA-256 ${sha256}; the manifest records ${expected.sha256}`);
    }
    files.set(file, bytes);
  }
  return files;
}

function parseJsonOrThrow(name: string, path: string, files: ReadonlyMap<string, Buffer>): unknown {
  const bytes = fileOrThrow(name, path, files);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new CheckpointCorruptError(name, path, 'is not valid JSON', { cause });
  }
}

function fileOrThrow(name: string, path: string, files: ReadonlyMap<string, Buffer>): Buffer {
  const bytes = files.get(basename(path));
  if (bytes === undefined) throw new CheckpointCorruptError(name, path, 'is not listed in the manifest');
  return bytes;
}

function readWeightsFile(name: string, dir: string, jsonFile: string, binFile: string, files: ReadonlyMap<string, Buffer>, owned: tf.Tensor[]): NamedWeight[] {
  const jsonPath = join(dir, jsonFile);
  const json = parseJsonOrThrow(name, jsonPath, files);
  const problem = weightsFileProblem(json);
  if (problem !== undefined) throw new CheckpointCorruptError(name, jsonPath, problem);
  const specs = (json as WeightsFileJson).weights;
  const bytes = fileOrThrow(name, join(dir, binFile), files);
  const tensors = decodeOrThrow(name, join(dir, binFile), bytes, specs);
  owned.push(...tensors);
  return specs.map((spec, i) => ({ name: spec.name, tensor: tensors[i] }));
}

function decodeOrThrow(name: string, path: string, bytes: Uint8Array, specs: readonly tf.io.WeightsManifestEntry[]): tf.Tensor[] {
  try {
    return decodeWeightsInOrder(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, specs);
  } catch (cause) {
    throw new CheckpointCorruptError(name, path, `cannot be decoded with its specs (${(cause as Error).message})`, { cause });
  }
}

async function prepareModel(
  name: string,
  dir: string,
  manifest: CheckpointManifest,
  files: ReadonlyMap<string, Buffer>,
  model: CheckpointModel,
  owned: tf.Tensor[],
): Promise<() => void> {
  if (isLayersModel(model)) {
    if (manifest.model !== 'layers-model') {
      throw new CheckpointMismatchError(name, `it holds ${manifest.model ?? 'no model'}; expected a LayersModel checkpoint for the given tf.LayersModel`);
    }
    const modelJsonPath = join(dir, MODEL_JSON_FILE);
    let artifacts: tf.io.ModelArtifacts;
    try {
      const json = parseModelJson(modelJsonPath, fileOrThrow(name, modelJsonPath, files));
      artifacts = await modelArtifactsFromJson(modelJsonPath, json, async (file) => fileOrThrow(name, file, files));
    } catch (cause) {
      if (cause instanceof CheckpointCorruptError) throw cause;
      throw new CheckpointCorruptError(name, modelJsonPath, (cause as Error).message, { cause });
    }
    const specs = artifacts.weightSpecs ?? [];
    const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    const tensors = decodeOrThrow(name, join(dir, WEIGHTS_BIN_FILE), new Uint8Array(data), specs);
    owned.push(...tensors);
    const targets = model.weights;
    if (targets.length !== tensors.length) {
      throw new CheckpointMismatchError(name, `it holds ${tensors.length} model weights; the given model has ${targets.length}`);
    }
    targets.forEach((target, i) => {
      if (!sameShape(target.shape, tensors[i].shape) || target.dtype !== tensors[i].dtype) {
        throw new CheckpointMismatchError(
          name,
          `model weight #${i} "${specs[i].name}" is ${tensors[i].dtype}[${tensors[i].shape.join(',')}]; the given model's "${target.originalName}" is ${target.dtype}[${target.shape.join(',')}]`,
        );
      }
    });
    return () => model.setWeights(tensors);
  }

  if (manifest.model !== 'variables') {
    throw new CheckpointMismatchError(name, `it holds ${manifest.model ?? 'no model'}; expected a variables checkpoint for the given variable record`);
  }
  const saved = readWeightsFile(name, dir, VARIABLES_JSON_FILE, VARIABLES_BIN_FILE, files, owned);
  const savedByName = new Map(saved.map((w) => [w.name, w.tensor]));
  const targetKeys = Object.keys(model);
  const missing = targetKeys.filter((k) => !savedByName.has(k));
  const extra = [...savedByName.keys()].filter((k) => !(k in model));
  if (missing.length > 0 || extra.length > 0) {
    throw new CheckpointMismatchError(
      name,
      `it holds variables [${[...savedByName.keys()].join(', ')}]; the given record has [${targetKeys.join(', ')}]`,
    );
  }
  for (const key of targetKeys) {
    const target = model[key];
    const value = savedByName.get(key) as tf.Tensor;
    if (!isVariable(target)) throw new InvalidArgumentError(`load target model["${key}"] is ${describe(target)}; expected a tf.Variable`);
    if (!sameShape(target.shape, value.shape) || target.dtype !== value.dtype) {
      throw new CheckpointMismatchError(name, `variable "${key}" is ${value.dtype}[${value.shape.join(',')}]; the given one is ${target.dtype}[${target.shape.join(',')}]`);
    }
  }
  return () => {
    for (const key of targetKeys) model[key].assign(savedByName.get(key) as tf.Tensor);
  };
}

function prepareOptimizer(
  name: string,
  dir: string,
  manifest: CheckpointManifest,
  files: ReadonlyMap<string, Buffer>,
  optimizer: tf.Optimizer,
  owned: tf.Tensor[],
): () => Promise<void> {
  const className = optimizer.getClassName();
  if (manifest.optimizer !== className) {
    throw new CheckpointMismatchError(name, `it holds optimizer ${manifest.optimizer ?? 'none'}; the given optimizer is ${className}`);
  }
  const saved = readWeightsFile(name, dir, OPTIMIZER_JSON_FILE, OPTIMIZER_BIN_FILE, files, owned);
  return async () => {
    const before = await optimizer.getWeights();
    await optimizer.setWeights(saved);
    restoreRunningProducts(optimizer);
    const after = await optimizer.getWeights();
    // setWeights swaps in new slot variables without disposing the old ones; those that the
    // optimizer no longer reports are unreachable, so free them here.
    const live = new Set(after.map((w) => w.tensor));
    for (const { tensor } of before) {
      if (tensor instanceof tf.Variable && !live.has(tensor) && !tensor.isDisposed) tensor.dispose();
    }
    disposeTemporaries(before);
    disposeTemporaries(after);
  };
}

/**
 * Adam and Adamax keep β^t as a running float32 product (`acc *= β` each step), but their
 * `setWeights` recomputes it as `pow(β, t + 1)`, which rounds differently: a resumed run would
 * drift from an uninterrupted one in the last bits. Recompute the product the way the steps did.
 */
function restoreRunningProducts(optimizer: tf.Optimizer): void {
  const o = optimizer as unknown as {
    iterations_?: number;
    beta1?: number;
    beta2?: number;
    accBeta1?: tf.Variable;
    accBeta2?: tf.Variable;
  };
  const t = o.iterations_;
  if (typeof t !== 'number') return;
  const product = (beta: number): number => {
    const b = Math.fround(beta);
    let acc = b;
    for (let i = 0; i < t; i++) acc = Math.fround(acc * b);
    return acc;
  };
  tf.tidy(() => {
    if (o.accBeta1 instanceof tf.Variable && typeof o.beta1 === 'number') o.accBeta1.assign(tf.scalar(product(o.beta1)));
    if (o.accBeta2 instanceof tf.Variable && typeof o.beta2 === 'number') o.accBeta2.assign(tf.scalar(product(o.beta2)));
  });
}

function inspectSync(path: string, name: string): CheckpointInfo | undefined {
  try {
    const manifestBytes = readFileSync(join(path, MANIFEST_FILE));
    const json: unknown = JSON.parse(manifestBytes.toString('utf8'));
    if (manifestProblem(json) !== undefined) return undefined;
    const manifest = json as CheckpointManifest;
    if (requiredFiles(manifest).some((file) => !(file in manifest.files))) return undefined;
    for (const [file, digest] of Object.entries(manifest.files)) {
      if (statSync(join(path, file)).size !== digest.bytes) return undefined;
    }
    return infoFrom({ ...manifest, name }, path, manifestBytes.byteLength);
  } catch {
    // Unreadable or unparsable manifest or a missing file: not a complete checkpoint.
    return undefined;
  }
}

function infoFrom(manifest: CheckpointManifest, path: string, manifestBytes: number): CheckpointInfo {
  const bytes = Object.values(manifest.files).reduce((sum, d) => sum + d.bytes, manifestBytes);
  const base = { name: manifest.name, path, createdAt: new Date(manifest.createdAt), bytes, model: manifest.model, optimizer: manifest.optimizer };
  return manifest.iteration === null ? base : { ...base, iteration: manifest.iteration };
}

async function moveAside(dir: string, name: string, kind: 'old' | 'trash'): Promise<string | undefined> {
  const aside = join(dir, `.${name}.${kind}-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await rename(join(dir, name), aside);
    return aside;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function existsSync(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function sameShape(a: readonly (number | null)[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../errors/index.js';
import { isLayersModel, isVariable } from '../backends/tfjs-objects.js';
import { VARIABLES_BIN_FILE, VARIABLES_JSON_FILE, type CheckpointManifest, type CheckpointModelKind } from './checkpoint-manifest.js';
import { writeFileDurable } from './durable-fs.js';
import { CheckpointCorruptError, CheckpointMismatchError } from './errors.js';
import { encodeNamedWeights } from './named-weights.js';
import { MODEL_JSON_FILE, WEIGHTS_BIN_FILE, modelArtifactsFromJson, nodeFileIO, parseModelJson } from './node-file-io.js';
import { decodeOrThrow, fileOrThrow, readWeightsFile, type VerifiedFiles } from './verified-files.js';

/** The model part of a checkpoint: a LayersModel, or variables keyed by a stable name. */
export type CheckpointModel = tf.LayersModel | Readonly<Record<string, tf.Variable>>;

/**
 * Writes the model's files into the checkpoint folder `dir`; returns what kind it wrote.
 *
 * @example
 * ```ts
 * const kind = await writeModel(tmp, { w }); // 'variables'
 * ```
 */
export async function writeModel(dir: string, model: CheckpointModel | undefined): Promise<CheckpointModelKind | null> {
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

/**
 * Decodes the saved model weights and checks that they fit `model`; returns the step that
 * assigns them, so that nothing is assigned before every part of a load has been checked.
 * Decoded tensors go into `owned` for the caller to dispose.
 *
 * @example
 * ```ts
 * const apply = await prepareModel('iter-5', dir, manifest, files, model, owned);
 * apply();
 * ```
 */
export async function prepareModel(
  name: string,
  dir: string,
  manifest: CheckpointManifest,
  files: VerifiedFiles,
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
    const saved = decodeOrThrow(name, join(dir, WEIGHTS_BIN_FILE), new Uint8Array(data), specs);
    const tensors = saved.map((w) => w.tensor);
    owned.push(...tensors);
    const targets = model.weights;
    const countMismatch = (): CheckpointMismatchError =>
      new CheckpointMismatchError(name, `it holds ${tensors.length} model weights; the given model has ${targets.length}`);
    if (targets.length !== tensors.length) throw countMismatch();
    targets.forEach((target, i) => {
      const weight = saved[i];
      if (weight === undefined) throw countMismatch();
      const { tensor } = weight;
      if (!sameShape(target.shape, tensor.shape) || target.dtype !== tensor.dtype) {
        throw new CheckpointMismatchError(
          name,
          `model weight #${i} "${weight.name}" is ${tensor.dtype}[${tensor.shape.join(',')}]; the given model's "${target.originalName}" is ${target.dtype}[${target.shape.join(',')}]`,
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
  const assignments: [tf.Variable, tf.Tensor][] = [];
  for (const key of targetKeys) {
    const target = model[key];
    const value = savedByName.get(key) as tf.Tensor;
    if (!isVariable(target)) throw new InvalidArgumentError(`load target model["${key}"] is ${describe(target)}; expected a tf.Variable`);
    if (!sameShape(target.shape, value.shape) || target.dtype !== value.dtype) {
      throw new CheckpointMismatchError(name, `variable "${key}" is ${value.dtype}[${value.shape.join(',')}]; the given one is ${target.dtype}[${target.shape.join(',')}]`);
    }
    assignments.push([target, value]);
  }
  return () => {
    for (const [target, value] of assignments) target.assign(value);
  };
}

function sameShape(a: readonly (number | null)[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

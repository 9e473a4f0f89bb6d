import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelFileError } from './errors.js';
import { writeFileDurable } from './durable-fs.js';

/** File name of the model topology + weights manifest, as `tf.loadLayersModel` expects it. */
export const MODEL_JSON_FILE = 'model.json';
/** File name of the concatenated binary weights referenced by `model.json`. */
export const WEIGHTS_BIN_FILE = 'weights.bin';

const FILE_SCHEME = 'file://';

// Bytes per stored element; quantized weights are stored in their quantization dtype.
const STORED_BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  float16: 2,
  uint16: 2,
  uint8: 1,
};

/**
 * A `tf.io.IOHandler` that saves a model as `model.json` (topology + weights manifest) and
 * `weights.bin` in a directory, and loads it back; the layout is the one `tf.loadLayersModel`
 * reads and tfjs-node writes. `path` is a directory, or a path ending in `.json` naming the
 * model file itself (its weights then sit beside it). Files are fsynced as they are written.
 *
 * @example
 * ```ts
 * await model.save(nodeFileIO('/tmp/my-model'));
 * const again = await tf.loadLayersModel(nodeFileIO('/tmp/my-model'));
 * ```
 */
export function nodeFileIO(path: string): tf.io.IOHandler {
  if (typeof path !== 'string' || path.length === 0) {
    throw new ModelFileError(String(path), 'expected a non-empty directory path or path to a .json model file');
  }
  const modelJsonPath = path.endsWith('.json') ? path : join(path, MODEL_JSON_FILE);
  return {
    save: (artifacts) => saveArtifacts(modelJsonPath, artifacts),
    load: () => loadArtifacts(modelJsonPath),
  };
}

/**
 * Lets `model.save('file://…')` and `tf.loadLayersModel('file://…')` use {@link nodeFileIO}.
 * Each router is registered only when nothing handles `file://` yet, so an installed
 * tfjs-node (which registers its own) keeps precedence; returns whether anything was registered.
 *
 * @example
 * ```ts
 * registerFileScheme();
 * await model.save('file:///tmp/my-model');
 * const again = await tf.loadLayersModel('file:///tmp/my-model/model.json');
 * ```
 */
export function registerFileScheme(): boolean {
  const probe = `${FILE_SCHEME}/trainledger-probe`;
  let registered = false;
  if (tf.io.getSaveHandlers(probe).length === 0) {
    tf.io.registerSaveRouter(fileSchemeRouter);
    registered = true;
  }
  if (tf.io.getLoadHandlers(probe).length === 0) {
    tf.io.registerLoadRouter(fileSchemeRouter);
    registered = true;
  }
  return registered;
}

function fileSchemeRouter(url: string | string[]): tf.io.IOHandler {
  // A router signals "not mine" with null, which the tfjs IORouter type does not spell out.
  if (typeof url !== 'string' || !url.startsWith(FILE_SCHEME)) return null as unknown as tf.io.IOHandler;
  return nodeFileIO(url.slice(FILE_SCHEME.length));
}

async function saveArtifacts(modelJsonPath: string, artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new ModelFileError(modelJsonPath, 'got a binary (GraphDef) topology; expected a JSON topology from a LayersModel');
  }
  const specs = artifacts.weightSpecs ?? [];
  if (specs.length > 0 && artifacts.weightData === undefined) {
    throw new ModelFileError(modelJsonPath, `got ${specs.length} weight specs but no weightData; expected both`);
  }
  const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  const dir = dirname(modelJsonPath);
  const weightsName = weightsFileFor(modelJsonPath);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology ?? {},
    weightsManifest: [{ paths: [weightsName], weights: specs }],
  };
  // Optional fields are copied only when present so model.json stays minimal.
  const optional = ['trainingConfig', 'format', 'generatedBy', 'convertedBy', 'signature', 'userDefinedMetadata', 'modelInitializer', 'initializerSignature'] as const;
  for (const key of optional) {
    if (artifacts[key] !== undefined) (modelJson as unknown as Record<string, unknown>)[key] = artifacts[key];
  }
  await mkdir(dir, { recursive: true });
  // Weights first: a model.json on disk then always refers to weights already written.
  await writeFileDurable(join(dir, weightsName), new Uint8Array(weightData));
  await writeFileDurable(modelJsonPath, JSON.stringify(modelJson));
  return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ ...artifacts, weightData }) };
}

async function loadArtifacts(modelJsonPath: string): Promise<tf.io.ModelArtifacts> {
  const json = parseModelJson(modelJsonPath, await readOrExplain(modelJsonPath, 'expected a model.json written by model.save()'));
  return modelArtifactsFromJson(modelJsonPath, json, (file) => readOrExplain(file, 'expected the weights file listed in model.json'));
}

/**
 * Parses and checks the shape of a `model.json` document.
 *
 * @example
 * ```ts
 * const json = parseModelJson('/tmp/m/model.json', await readFile('/tmp/m/model.json'));
 * ```
 */
export function parseModelJson(modelJsonPath: string, bytes: Uint8Array): tf.io.ModelJSON {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (cause) {
    throw new ModelFileError(modelJsonPath, 'is not valid JSON; expected a model.json written by model.save()', { cause });
  }
  if (typeof json !== 'object' || json === null || typeof (json as { modelTopology?: unknown }).modelTopology !== 'object') {
    throw new ModelFileError(modelJsonPath, 'has no "modelTopology" object; expected a model.json written by model.save()');
  }
  const manifest = (json as { weightsManifest?: unknown }).weightsManifest;
  const groupsOk =
    manifest === undefined ||
    (Array.isArray(manifest) &&
      manifest.every(
        (g: unknown) =>
          typeof g === 'object' &&
          g !== null &&
          Array.isArray((g as { paths?: unknown }).paths) &&
          (g as { paths: unknown[] }).paths.every((p) => typeof p === 'string' && basename(p) === p && p !== '..') &&
          Array.isArray((g as { weights?: unknown }).weights),
      ));
  if (!groupsOk) {
    throw new ModelFileError(modelJsonPath, 'has a malformed "weightsManifest"; expected [{ paths: [file names], weights: [specs] }]');
  }
  return json as tf.io.ModelJSON;
}

/**
 * Turns a parsed `model.json` into model artifacts, reading the weight files it lists through
 * `readWeights` (paths are resolved beside the model file) and checking their total size.
 *
 * @example
 * ```ts
 * const artifacts = await modelArtifactsFromJson(path, json, (file) => readFile(file));
 * ```
 */
export async function modelArtifactsFromJson(
  modelJsonPath: string,
  json: tf.io.ModelJSON,
  readWeights: (file: string) => Promise<Uint8Array>,
): Promise<tf.io.ModelArtifacts> {
  const dir = dirname(modelJsonPath);
  return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs = tf.io.getWeightSpecs(manifest);
    const parts: ArrayBuffer[] = [];
    for (const group of manifest) {
      for (const file of group.paths) parts.push(toArrayBuffer(await readWeights(join(dir, file))));
    }
    const data = tf.io.concatenateArrayBuffers(parts);
    const expected = expectedWeightBytes(specs);
    if (expected !== undefined && expected !== data.byteLength) {
      const files = manifest.flatMap((g) => g.paths).join(', ');
      throw new ModelFileError(join(dir, files), `holds ${data.byteLength} bytes of weights; the manifest describes ${expected}`);
    }
    return [specs, data];
  });
}

/**
 * Total bytes the weights described by `specs` occupy, or `undefined` when a string weight
 * makes the size data-dependent.
 *
 * @example
 * ```ts
 * expectedWeightBytes([{ name: 'w', shape: [2, 3], dtype: 'float32' }]); // 24
 * ```
 */
export function expectedWeightBytes(specs: readonly tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const spec of specs) {
    const storedAs = spec.quantization?.dtype ?? spec.dtype;
    const size = STORED_BYTES[storedAs];
    if (size === undefined) return undefined;
    total += spec.shape.reduce((a, b) => a * b, 1) * size;
  }
  return total;
}

function weightsFileFor(modelJsonPath: string): string {
  // A custom model file name (e.g. best.json) gets matching weights (best.weights.bin).
  const name = basename(modelJsonPath);
  return name === MODEL_JSON_FILE ? WEIGHTS_BIN_FILE : `${name.slice(0, -'.json'.length)}.${WEIGHTS_BIN_FILE}`;
}

async function readOrExplain(file: string, expectation: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ModelFileError(file, `cannot be read (${code ?? String(cause)}); ${expectation}`, { cause });
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

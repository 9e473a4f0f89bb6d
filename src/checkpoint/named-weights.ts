import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../errors/index.js';

/** A tensor with the name it is stored under (the shape `optimizer.getWeights()` returns). */
export interface NamedWeight {
  readonly name: string;
  readonly tensor: tf.Tensor;
}

/** Contents of a `<part>.json` file describing the tensors stored in `<part>.bin`. */
export interface WeightsFileJson {
  readonly format: 'trainledger-weights';
  readonly version: 1;
  /** Specs in storage order; names may repeat, so decoding is positional. */
  readonly weights: tf.io.WeightsManifestEntry[];
  /** Free-form description of the owner (e.g. optimizer class and config). */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/**
 * Encodes tensors into one binary blob plus JSON specs, keeping their order.
 *
 * @example
 * ```ts
 * const { json, data } = await encodeNamedWeights([{ name: 'w', tensor: w }]);
 * ```
 */
export async function encodeNamedWeights(
  weights: readonly NamedWeight[],
  meta?: Readonly<Record<string, unknown>>,
): Promise<{ json: WeightsFileJson; data: Uint8Array }> {
  const { data, specs } = await tf.io.encodeWeights(weights.map((w) => ({ name: w.name, tensor: w.tensor })));
  const json: WeightsFileJson = meta === undefined
    ? { format: 'trainledger-weights', version: 1, weights: specs }
    : { format: 'trainledger-weights', version: 1, weights: specs, meta };
  return { json, data: new Uint8Array(data) };
}

/**
 * Decodes tensors in spec order, each with its spec's name. `tf.io.decodeWeights` keys its
 * result by name, which would collapse repeated names, so each spec is decoded under its index
 * instead. The caller owns (and must dispose) the returned tensors.
 *
 * @example
 * ```ts
 * const weights = decodeWeightsInOrder(bytes, json.weights);
 * ```
 */
export function decodeWeightsInOrder(data: ArrayBuffer, specs: readonly tf.io.WeightsManifestEntry[]): NamedWeight[] {
  const byIndex = tf.io.decodeWeights(data, specs.map((spec, i) => ({ ...spec, name: String(i) })));
  return specs.map((spec, i) => {
    const tensor = byIndex[String(i)];
    // decodeWeights returns a tensor for every spec it decodes; this guards the record lookup.
    if (tensor === undefined) throw new InvalidArgumentError(`weights data decoded no tensor for spec #${i} "${spec.name}"; expected one per spec`);
    return { name: spec.name, tensor };
  });
}

/**
 * Checks that parsed JSON is a {@link WeightsFileJson}; returns a description of the first
 * problem, or `undefined` when it is well formed.
 *
 * @example
 * ```ts
 * const problem = weightsFileProblem(JSON.parse(text));
 * if (problem) throw new Error(problem);
 * ```
 */
export function weightsFileProblem(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return 'expected a JSON object';
  const candidate = json as Partial<WeightsFileJson>;
  if (candidate.format !== 'trainledger-weights') return `format is ${JSON.stringify(candidate.format)}; expected "trainledger-weights"`;
  if (candidate.version !== 1) return `version is ${JSON.stringify(candidate.version)}; expected 1`;
  if (!Array.isArray(candidate.weights)) return 'has no "weights" array';
  for (const [i, spec] of candidate.weights.entries()) {
    const ok =
      typeof spec === 'object' &&
      spec !== null &&
      typeof spec.name === 'string' &&
      typeof spec.dtype === 'string' &&
      Array.isArray(spec.shape) &&
      spec.shape.every((d) => Number.isInteger(d) && d >= 0);
    if (!ok) return `weights[${i}] is ${JSON.stringify(spec)}; expected { name, shape, dtype }`;
  }
  return undefined;
}

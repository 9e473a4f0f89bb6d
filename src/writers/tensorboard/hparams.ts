import { ProtoWriter } from './proto-writer.js';
import { WireType } from './proto-wire-type.js';
import type { TfSummaryValue } from './tf-event.js';

/** The hparams plugin's name, tag and data version (tensorboard/plugins/hparams/metadata.py). */
export const HPARAMS_PLUGIN_NAME = 'hparams';
export const HPARAMS_SESSION_START_TAG = '_hparams_/session_start_info';

/** A hyper-parameter value as the hparams plugin shows it. */
export type HParamValue = number | string | boolean;

/**
 * A run's config as hyper-parameters: nested objects flattened with `/` (`{ solver: { lr } }` →
 * `solver/lr`), numbers, strings and booleans as they are, anything else (null, arrays) as its
 * JSON text. A config that is not an object is one hparam named `config`; none (null) gives none.
 *
 * @example
 * ```ts
 * flattenHParams({ lr: 0.1, model: { depth: 2 }, steps: [1, 2] }); // { lr: 0.1, 'model/depth': 2, steps: '[1,2]' }
 * ```
 */
export function flattenHParams(config: unknown): Record<string, HParamValue> {
  const out: Record<string, HParamValue> = {};
  if (config === null || config === undefined) return out; // a run without a config has no hparams
  const visit = (value: unknown, name: string): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) visit(v, name === '' ? k : `${name}/${k}`);
    } else if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
      out[name === '' ? 'config' : name] = value;
    } else if (value !== undefined) {
      out[name === '' ? 'config' : name] = JSON.stringify(value) ?? String(value);
    }
  };
  visit(config, '');
  return out;
}

/** `google.protobuf.Value`: the kind oneof is written even at its default (0, '', false). */
function encodeValue(value: HParamValue): Uint8Array {
  const w = new ProtoWriter();
  if (typeof value === 'number') w.key(2, WireType.i64).double(value);
  else if (typeof value === 'string') w.key(3, WireType.len).string(value);
  else w.key(4, WireType.varint).uint32(value ? 1 : 0);
  return w.finish().slice();
}

/**
 * The Summary.Value TensorBoard's hparams plugin reads a run's hyper-parameters from: tag
 * `_hparams_/session_start_info`, plugin data `HParamsPluginData { session_start_info {
 * hparams, start_time_secs } }` (version 0), and the empty float tensor TensorBoard's own
 * `hparams` summary carries. Map entries are sorted by name, so the bytes are canonical.
 *
 * @example
 * ```ts
 * hparamsSessionStart({ lr: 0.1 }, 1700000000); // { tag: '_hparams_/session_start_info', tensor, metadata }
 * ```
 */
export function hparamsSessionStart(hparams: Readonly<Record<string, HParamValue>>, startTimeSecs: number): TfSummaryValue {
  const info = new ProtoWriter();
  for (const name of Object.keys(hparams).sort()) {
    const entry = new ProtoWriter().key(1, WireType.len).string(name).key(2, WireType.len).lengthDelimited(encodeValue(hparams[name]!));
    info.key(1, WireType.len).lengthDelimited(entry.finish());
  }
  if (!Object.is(startTimeSecs, 0)) info.key(5, WireType.i64).double(startTimeSecs);
  // HParamsPluginData.session_start_info = 3 (version 0 is the default, so omitted).
  const content = new ProtoWriter().key(3, WireType.len).lengthDelimited(info.finish()).finish().slice();
  // TensorProto { dtype: DT_FLOAT (1), tensor_shape { dim { size: 0 } } }.
  const tensor = new Uint8Array([0x08, 0x01, 0x12, 0x02, 0x12, 0x00]);
  return { tag: HPARAMS_SESSION_START_TAG, tensor, metadata: { pluginName: HPARAMS_PLUGIN_NAME, content } };
}

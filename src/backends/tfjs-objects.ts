import type * as tf from '@tensorflow/tfjs';

/**
 * Structural checks for tfjs objects. A user's model, tensors and variables may come from
 * another copy of tfjs than trainledger's (a nested install, a bundler's duplicate), and
 * `instanceof tf.LayersModel` is false across copies (tf.Tensor and tf.Variable define a
 * structural `Symbol.hasInstance`, LayersModel does not): these test what trainledger uses of an
 * object, whichever copy made it, the same way for all three.
 */

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object';
}

/** A tf.Tensor from any copy of tfjs: an id, a data id, a shape, a dtype and `dispose()`. */
export function isTensor(value: unknown): value is tf.Tensor {
  if (!isObject(value)) return false;
  return (
    typeof value.id === 'number' &&
    isObject(value.dataId) &&
    Array.isArray(value.shape) &&
    typeof value.dtype === 'string' &&
    typeof value.rank === 'number' &&
    typeof value.dispose === 'function'
  );
}

/** A tf.Variable from any copy of tfjs: a tensor that can be assigned, with a name and a trainable flag. */
export function isVariable(value: unknown): value is tf.Variable {
  if (!isTensor(value)) return false;
  const v = value as Partial<tf.Variable>;
  return typeof v.assign === 'function' && typeof v.name === 'string' && typeof v.trainable === 'boolean';
}

/**
 * A tf.LayersModel (or Sequential) from any copy of tfjs: what SimpleTrainer and the
 * checkpoints use of it (its trainable weights, get/set weights, save).
 */
export function isLayersModel(value: unknown): value is tf.LayersModel {
  if (!isObject(value)) return false;
  return (
    Array.isArray(value.trainableWeights) &&
    typeof value.getWeights === 'function' &&
    typeof value.setWeights === 'function' &&
    typeof value.save === 'function' &&
    typeof value.apply === 'function'
  );
}

import type * as tf from '@tensorflow/tfjs';

/**
 * Structural checks for tfjs objects. `instanceof tf.Tensor` is true only for objects made by
 * the very copy of tfjs trainledger imported, and a user's model, tensors and variables may come
 * from their own copy (a nested install, a bundler's duplicate): these test what trainledger
 * uses of an object, whichever copy made it.
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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flattenHParams, hparamsSessionStart } from '../../../src/writers/tensorboard/hparams.js';

test('a config flattens to hparams: nested objects joined with /, null and arrays as JSON text', () => {
  assert.deepEqual(flattenHParams({ lr: 0.1, model: { depth: 2, act: 'relu' }, steps: [1, 2], none: null, amp: false, skip: undefined }), {
    lr: 0.1,
    'model/depth': 2,
    'model/act': 'relu',
    steps: '[1,2]',
    none: 'null',
    amp: false,
  });
});

test('no config gives no hparams; a config that is not an object is one hparam named config', () => {
  assert.deepEqual(flattenHParams(null), {});
  assert.deepEqual(flattenHParams(undefined), {});
  assert.deepEqual(flattenHParams(3), { config: 3 });
});

test('the session start info holds sorted map entries, zero and false values written (oneof), and the start time', () => {
  const v = hparamsSessionStart({ b: false, a: 0 }, 0.5);
  assert.equal(v.tag, '_hparams_/session_start_info');
  assert.equal(v.metadata?.pluginName, 'hparams');
  // HParamsPluginData { session_start_info(3) { hparams(1) {key "a", value {number_value 0}}, hparams(1) {key "b", value {bool_value false}}, start_time_secs(5) 0.5 } }
  const entryA = '0a0161' + '1209' + '110000000000000000';
  const entryB = '0a0162' + '1202' + '2000';
  const info = `0a${(entryA.length / 2).toString(16).padStart(2, '0')}${entryA}0a${(entryB.length / 2).toString(16).padStart(2, '0')}${entryB}29000000000000e03f`;
  assert.equal(Buffer.from(v.metadata!.content).toString('hex'), `1a${(info.length / 2).toString(16).padStart(2, '0')}${info}`);
});

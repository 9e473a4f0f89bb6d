import * as tf from '@tensorflow/tfjs';

// Tests run on the cpu backend and without tfjs's "install tfjs-node" banner.
tf.env().set('IS_TEST', true);
await tf.setBackend('cpu');
export { tf };

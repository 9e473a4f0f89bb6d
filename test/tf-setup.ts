import * as tf from '@tensorflow/tfjs';

// Tests run on the cpu backend and without tfjs's "install tfjs-node" banner (PROD silences it; IS_TEST would also turn on leak checks that misfire on custom-gradient ops).
tf.env().set('PROD', true);
await tf.setBackend('cpu');
export { tf };

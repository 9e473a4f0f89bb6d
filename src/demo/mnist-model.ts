import * as tf from '@tensorflow/tfjs';

export type DemoModelKind = 'mlp' | 'cnn';

/**
 * The demo's networks: an MLP 784-256-10, or a small CNN (conv-pool-conv-pool-dense) for
 * backends that can train convolutions (wasm with trainledger's kernels, tensorflow).
 *
 * @example
 * ```ts
 * const model = buildDemoModel('mlp', 7);
 * ```
 */
export function buildDemoModel(kind: DemoModelKind, seed: number): tf.Sequential {
  const init = (i: number) => tf.initializers.glorotUniform({ seed: seed + i });
  if (kind === 'mlp') {
    return tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu', kernelInitializer: init(1) }),
        tf.layers.dense({ units: 10, kernelInitializer: init(2) }),
      ],
    });
  }
  return tf.sequential({
    layers: [
      tf.layers.reshape({ inputShape: [784], targetShape: [28, 28, 1] }),
      tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 5, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, kernelInitializer: init(3) }),
    ],
  });
}

/**
 * Accuracy of `model` on images/labels, in batches, with one device read per batch.
 *
 * @example
 * ```ts
 * const acc = evaluateAccuracy(model, split.test.images, split.test.labels);
 * ```
 */
export function evaluateAccuracy(model: tf.LayersModel, images: Float32Array, labels: Uint8Array, batchSize = 1000): number {
  const n = labels.length;
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    const m = Math.min(batchSize, n - start);
    const predicted = tf.tidy(() => {
      const x = tf.tensor2d(images.subarray(start * 784, (start + m) * 784), [m, 784]);
      return (model.predict(x) as tf.Tensor).argMax(-1);
    });
    const p = predicted.dataSync();
    predicted.dispose();
    for (let i = 0; i < m; i++) if (p[i] === labels[start + i]) correct++;
  }
  return correct / n;
}

/**
 * Entry of a data-parallel gradient thread (see data-parallel.ts). It owns its own tfjs engine
 * and backend (tfjs-backend-wasm is single-threaded in Node), a replica of the model being
 * trained and a copy of the training inputs. Per step it receives the current trainable weights
 * and the rows of its share of the batch, and returns the gradient of its share of the mean loss.
 * It holds no optimizer state: the main thread applies every update and sends the weights back
 * with the next step, so the replicas cannot drift apart.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './backend.ts';
import type { FromGradientWorker, ToGradientWorker } from './data-parallel.ts';
import { gatherBatch } from './train-step.ts';

if (!parentPort) throw new Error('gradient-worker.ts must run in a worker thread');
const port = parentPort;

let model: tf.LayersModel | undefined;
let inputs: tf.Tensor | undefined;
let labels: tf.Tensor | undefined;

function reply(message: FromGradientWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function dropTrial(): void {
  tf.dispose([inputs, labels].filter((t): t is tf.Tensor => t !== undefined));
  inputs = labels = undefined;
  if (model) for (const w of model.weights) w.dispose();
  model = undefined;
}

async function handle(message: ToGradientWorker): Promise<void> {
  switch (message.type) {
    case 'init': {
      await selectBackend(message.backend);
      reply({ type: 'ready', backend: tf.getBackend() });
      return;
    }
    case 'trial': {
      dropTrial();
      model = await tf.models.modelFromJSON({ modelTopology: message.topology as tf.io.ModelJSON['modelTopology'] });
      tf.tidy(() => {
        (model as tf.LayersModel).setWeights(message.weights.map((w) => tf.tensor(w.values, w.shape)));
      });
      inputs = tf.tensor(message.inputs, message.inputShape);
      labels = tf.tensor(message.labels, message.labelShape);
      reply({ type: 'trial-ready', trainable: model.trainableWeights.length });
      return;
    }
    case 'step': {
      if (!model || !inputs || !labels) throw new Error('step before trial');
      const m = model;
      const trainable = m.trainableWeights;
      tf.tidy(() => {
        trainable.forEach((w, i) => {
          w.write(tf.tensor(message.weights[i] as Float32Array, w.shape as number[]));
        });
      });
      // Gathered outside the tape (see gatherBatch).
      const { xb, yb } = gatherBatch(inputs, labels, message.indices);
      const { value, grads } = tf.variableGrads(
        () => {
          const logits = m.apply(xb, { training: true }) as tf.Tensor;
          // This share's part of the batch mean: the shares' gradients then sum to the full batch's.
          return tf.mul(tf.losses.sigmoidCrossEntropy(yb, logits), message.weight) as tf.Scalar;
        },
        trainable.map((w) => w.read() as tf.Variable),
      );
      const out = trainable.map((w) => grads[(w.read() as tf.Variable).name]?.dataSync().slice() as Float32Array);
      const loss = value.dataSync()[0] as number;
      tf.dispose([xb, yb, value, ...Object.values(grads)]);
      reply(
        { type: 'grads', step: message.step, grads: out, loss },
        out.map((g) => g.buffer as ArrayBuffer),
      );
      return;
    }
    case 'end-trial':
      dropTrial();
      reply({ type: 'trial-ended', numTensors: tf.memory().numTensors });
      return;
  }
}

port.on('message', (message: ToGradientWorker) => {
  handle(message).catch((error: unknown) => {
    reply({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});

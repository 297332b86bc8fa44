#!/usr/bin/env python3
"""A TF-slim-style training script in TensorFlow 2, knowing nothing of sweepd.

Flags are named as in TF-slim's train_image_classifier.py, and it writes TensorBoard summaries as
TF-slim does into --train_dir: ``losses/total_loss``, ``losses/cross_entropy``,
``learning_rate``, a histogram per model variable tagged with its TF-slim name
(``TinyNet/Conv2d_1a_3x3/weights``), ``sparsity/<end point>`` (the zero fraction of each ReLU
end point on the training batch, tf.nn.zero_fraction) and ``activations/<end point>`` histograms;
after each epoch it evaluates and writes ``eval/AUC`` (the macro ROC AUC over the classes that
have both labels in validation) and ``eval/AUC/<class>`` (each such class's ROC AUC) into
--eval_dir (default <train_dir>/eval), as eval_image_classifier.py would.

The AUCs are exact (ties count one half, as scikit-learn's roc_auc_score), not TF-slim's streaming
AUC: that one (and Keras' ``AUC``) counts 200 thresholds by default, and with the scores bunched
together, as a frozen backbone leaves them, it was off by up to 0.06 here.

    python3 train_image_classifier.py --train_dir=/tmp/run --learning_rate=0.01 --optimizer=rmsprop

sweepd reads these event files with its TensorBoard collector (see spec.yaml); the script needs
no change. The data is generated: multi-label coloured blobs over noise, 32×32.
"""

import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

import keras  # noqa: E402

FLAGS = flags.FLAGS

flags.DEFINE_string("train_dir", "/tmp/tfmodel/", "Directory where checkpoints and event logs are written to.")
flags.DEFINE_string("eval_dir", None, "Directory for the evaluation summaries (default: <train_dir>/eval).")
flags.DEFINE_string("model_name", "tiny_net", "The name of the architecture to train (only tiny_net here).")
flags.DEFINE_string("dataset_name", "synthetic", "The name of the dataset (only synthetic here).")
flags.DEFINE_integer("train_size", 512, "Training images to generate.")
flags.DEFINE_integer("val_size", 256, "Validation images to generate.")
flags.DEFINE_integer("num_classes", 5, "Classes (multi-label).")
flags.DEFINE_integer("train_image_size", 32, "Train image size.")
flags.DEFINE_integer("batch_size", 32, "The number of samples in each batch.")
flags.DEFINE_integer("num_epochs", 2, "Epochs to train (TF-slim counts steps: --max_number_of_steps wins when set).")
flags.DEFINE_integer("max_number_of_steps", None, "The maximum number of training steps.")
flags.DEFINE_integer("log_every_n_steps", 8, "The frequency with which summaries are written, in steps.")
flags.DEFINE_float("weight_decay", 0.00004, "The weight decay on the model weights.")
flags.DEFINE_string("optimizer", "rmsprop", 'The name of the optimizer, one of "sgd", "momentum", "rmsprop", "adam".')
flags.DEFINE_float("adam_beta1", 0.9, "The exponential decay rate for the 1st moment estimates.")
flags.DEFINE_float("adam_beta2", 0.999, "The exponential decay rate for the 2nd moment estimates.")
flags.DEFINE_float("opt_epsilon", 1.0, "Epsilon term for the optimizer.")
flags.DEFINE_float("momentum", 0.9, "The momentum for the MomentumOptimizer.")
flags.DEFINE_float("rmsprop_momentum", 0.9, "Momentum.")
flags.DEFINE_float("rmsprop_decay", 0.9, "Decay term for RMSProp.")
flags.DEFINE_string("learning_rate_decay_type", "exponential", 'One of "fixed", "exponential", or "polynomial".')
flags.DEFINE_float("learning_rate", 0.01, "Initial learning rate.")
flags.DEFINE_float("end_learning_rate", 0.0001, "The minimal end learning rate used by a polynomial decay learning rate.")
flags.DEFINE_float("learning_rate_decay_factor", 0.94, "Learning rate decay factor.")
flags.DEFINE_float("num_epochs_per_decay", 2.0, "Number of epochs after which learning rate decays.")
flags.DEFINE_string("trainable_scopes", None, "Comma-separated list of scopes to train (default: all).")
flags.DEFINE_integer("seed", 0, "Random seed for data and weights.")
flags.DEFINE_bool("save_eval_predictions", False, "Also save each evaluation's logits and labels to <eval_dir>/predictions_<epoch>.npz.")

END_POINTS = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_3a_3x3"]


def generate(n, size, classes, rng, patterns, absent_last):
    labels = (rng.random((n, classes)) < 0.3).astype(np.float32)
    if absent_last:
        labels[:, -1] = 0
    images = 0.35 * rng.random((n, size, size, 3), dtype=np.float32) + np.tensordot(labels, patterns, axes=1)
    return np.clip(images, 0, 1).astype(np.float32) * 2 - 1, labels  # inception preprocessing: [-1, 1]


def roc_auc(labels, scores):
    """Exact ROC AUC of one class: the Mann-Whitney statistic with mid-ranks for ties; None without both labels."""
    positive = labels == 1
    n_pos = int(positive.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ordered = np.sort(scores)
    # Twice each positive's mid-rank is left + right + 1 (1-based ranks left+1 .. right tie).
    left = np.searchsorted(ordered, scores[positive], side="left")
    right = np.searchsorted(ordered, scores[positive], side="right")
    twice_u = int(left.sum() + right.sum()) + n_pos - n_pos * (n_pos + 1)
    return twice_u / (2 * n_pos * n_neg)


def build_model(classes, size):
    """Three conv end points (ReLU) and logits; variables named as TF-slim scopes."""
    inputs = keras.Input((size, size, 3))
    x = inputs
    outputs = {}
    for i, name in enumerate(END_POINTS):
        x = keras.layers.Conv2D(16 * 2**i, 3, strides=2 if i else 1, padding="same", activation="relu", name=name)(x)
        outputs[name] = x
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs["Logits"] = keras.layers.Dense(classes, name="Logits")(x)
    return keras.Model(inputs, outputs)


def learning_rate_schedule(steps_per_epoch):
    decay_steps = max(1, int(steps_per_epoch * FLAGS.num_epochs_per_decay))
    kind = FLAGS.learning_rate_decay_type
    if kind == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(FLAGS.learning_rate, decay_steps, FLAGS.learning_rate_decay_factor, staircase=True)
    if kind == "fixed":
        return FLAGS.learning_rate
    if kind == "polynomial":
        return keras.optimizers.schedules.PolynomialDecay(FLAGS.learning_rate, decay_steps, FLAGS.end_learning_rate, power=1.0)
    raise ValueError(f"learning_rate_decay_type [{kind}] was not recognized")


def configure_optimizer(lr):
    name = FLAGS.optimizer
    if name == "sgd":
        return keras.optimizers.SGD(lr)
    if name == "momentum":
        return keras.optimizers.SGD(lr, momentum=FLAGS.momentum)
    if name == "rmsprop":
        # Keras' RMSprop (mean square from 0), not TF1's RMSPropOptimizer (from 1, epsilon inside the root)
        return keras.optimizers.RMSprop(lr, rho=FLAGS.rmsprop_decay, momentum=FLAGS.rmsprop_momentum, epsilon=FLAGS.opt_epsilon)
    if name == "adam":
        return keras.optimizers.Adam(lr, beta_1=FLAGS.adam_beta1, beta_2=FLAGS.adam_beta2, epsilon=FLAGS.opt_epsilon)
    raise ValueError(f"Optimizer [{name}] was not recognized")


def main(_):
    keras.utils.set_random_seed(FLAGS.seed)
    rng = np.random.default_rng(FLAGS.seed)
    size, classes = FLAGS.train_image_size, FLAGS.num_classes
    yy, xx = np.mgrid[0:size, 0:size] / size
    patterns = np.stack([
        np.exp(-((yy - rng.uniform(0.2, 0.8)) ** 2 + (xx - rng.uniform(0.2, 0.8)) ** 2) / (2 * rng.uniform(0.08, 0.18) ** 2))[:, :, None]
        * rng.uniform(0.3, 1.0, 3)[None, None, :]
        for _ in range(classes)
    ]).astype(np.float32)
    x_train, y_train = generate(FLAGS.train_size, size, classes, rng, patterns, False)
    x_val, y_val = generate(FLAGS.val_size, size, classes, rng, patterns, True)
    model = build_model(classes, size)
    scopes = [s.strip() for s in FLAGS.trainable_scopes.split(",")] if FLAGS.trainable_scopes else None
    for layer in model.layers:
        if scopes is not None and layer.weights:
            layer.trainable = any(layer.name.startswith(s) for s in scopes)
    steps_per_epoch = math.ceil(FLAGS.train_size / FLAGS.batch_size)
    max_steps = FLAGS.max_number_of_steps or steps_per_epoch * FLAGS.num_epochs
    schedule = learning_rate_schedule(steps_per_epoch)
    optimizer = configure_optimizer(schedule)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    kernels = [layer.kernel for layer in model.layers if hasattr(layer, "kernel")]

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            out = model(x, training=True)
            cross_entropy = bce(y, out["Logits"])
            regularization = FLAGS.weight_decay * tf.add_n([tf.nn.l2_loss(k) for k in kernels])  # slim.l2_regularizer
            total = cross_entropy + regularization
        grads = tape.gradient(total, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return total, cross_entropy, out

    eval_dir = FLAGS.eval_dir or os.path.join(FLAGS.train_dir, "eval")
    os.makedirs(FLAGS.train_dir, exist_ok=True)
    train_writer = tf.summary.create_file_writer(FLAGS.train_dir)
    eval_writer = tf.summary.create_file_writer(eval_dir)
    step = 0
    epoch = 0
    while step < max_steps:
        epoch += 1
        started = time.time()
        order = rng.permutation(FLAGS.train_size)
        for s in range(steps_per_epoch):
            if step >= max_steps:
                break
            idx = order[s * FLAGS.batch_size : (s + 1) * FLAGS.batch_size]
            total, cross_entropy, out = train_step(tf.constant(x_train[idx]), tf.constant(y_train[idx]))
            step += 1
            if step % FLAGS.log_every_n_steps == 0 or s == steps_per_epoch - 1 or step == max_steps:
                with train_writer.as_default(step=step):
                    tf.summary.scalar("losses/total_loss", total)
                    tf.summary.scalar("losses/cross_entropy", cross_entropy)
                    lr = schedule(optimizer.iterations - 1) if callable(schedule) else schedule
                    tf.summary.scalar("learning_rate", lr)
                    for name in END_POINTS:
                        tf.summary.histogram(f"activations/{name}", out[name])
                        tf.summary.scalar(f"sparsity/{name}", tf.nn.zero_fraction(out[name]))
                    for layer in model.layers:
                        if hasattr(layer, "kernel"):
                            tf.summary.histogram(f"TinyNet/{layer.name}/weights", layer.kernel)
                            tf.summary.histogram(f"TinyNet/{layer.name}/biases", layer.bias)
        # evaluation at the end of each epoch, as eval_image_classifier.py on the latest checkpoint
        logits = model(tf.constant(x_val), training=False)["Logits"]
        scores = logits.numpy().astype(np.float64)
        # A class with only one label in validation has no ROC AUC: eval/AUC is the macro AUC over the
        # classes that have one, as sweepd's val_auc_macro is (the last class is absent on purpose).
        per_class = {f"class_{k}": roc_auc(y_val[:, k], scores[:, k]) for k in range(classes)}
        defined = {name: auc for name, auc in per_class.items() if auc is not None}
        macro = sum(defined.values()) / len(defined)
        if FLAGS.save_eval_predictions:
            os.makedirs(eval_dir, exist_ok=True)
            np.savez(os.path.join(eval_dir, f"predictions_{epoch}.npz"), logits=scores, labels=y_val)
        with eval_writer.as_default(step=step):
            tf.summary.scalar("eval/AUC", macro)
            for name, auc in defined.items():
                tf.summary.scalar(f"eval/AUC/{name}", auc)
            tf.summary.scalar("eval/loss", bce(y_val, logits))
        train_writer.flush()
        eval_writer.flush()
        print(f"epoch {epoch} step {step}: total_loss {float(total):.4f} eval/AUC {macro:.4f} ({time.time() - started:.1f} s)", flush=True)
    train_writer.close()
    eval_writer.close()


if __name__ == "__main__":
    app.run(main)

#!/usr/bin/env python3
"""A Keras 3 fine-tuning script that knows nothing of sweepd: ``model.fit`` with the stock
``keras.callbacks.TensorBoard(histogram_freq=1)`` callback, as most Keras users train.

sweepd runs it once per trial (spec.yaml: the command runner, every parameter passed as a flag)
and reads the event files the callback writes: ``train/epoch_loss``, ``validation/epoch_*`` and a
histogram of every weight per epoch, under ``--log_dir``. Keras' step is the 0-based epoch, so the
spec gives no ``steps_per_epoch``: each step of the validation AUC is an epoch.

The one addition to a plain Keras script is the exact AUC. Keras' ``AUC`` metric counts 200
thresholds, which is off by several hundredths when the scores are bunched together (as a frozen
backbone leaves them), more than the margins sweepd's stopping rules and diagnosis work with; so
``ExactAUC`` computes scikit-learn's ROC AUC on the validation set at the end of each epoch and
puts it into the epoch's logs (``val_auc_exact`` and ``val_auc_exact_<class>``), which the
TensorBoard callback after it writes as ``validation/epoch_auc_exact…``.

    python3 train.py --log_dir=/tmp/run --learning_rate=0.01 --optimizer=rmsprop --frozen_layers=1

The data is generated: multi-label coloured blobs over noise, 32×32. For your own model, replace
``build_model`` with yours (e.g. ``keras.applications.InceptionV3(weights="imagenet",
include_top=False)`` plus a head) and the data with yours; the flags and callbacks stay.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

CONV_LAYERS = ["conv1", "conv2", "conv3"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--log_dir", required=True, help="where the TensorBoard callback writes train/ and validation/")
    p.add_argument("--learning_rate", type=float, default=0.01)
    p.add_argument("--optimizer", default="rmsprop", choices=["sgd", "momentum", "rmsprop", "adam"])
    p.add_argument("--momentum", type=float, default=0.9, help="for momentum")
    p.add_argument("--opt_epsilon", type=float, default=1e-7, help="for rmsprop and adam")
    p.add_argument("--frozen_layers", type=int, default=0, help=f"conv layers frozen from the input (0–{len(CONV_LAYERS)})")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--train_size", type=int, default=512)
    p.add_argument("--val_size", type=int, default=256)
    p.add_argument("--num_classes", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save_predictions", action="store_true", help="also save each epoch's validation scores to <log_dir>/predictions_<epoch>.npz")
    args = p.parse_args(argv)
    if not 0 <= args.frozen_layers <= len(CONV_LAYERS):
        p.error(f"--frozen_layers must be between 0 and {len(CONV_LAYERS)}, got {args.frozen_layers}")
    return args


def generate(n, size, classes, rng, patterns):
    labels = (rng.random((n, classes)) < 0.3).astype(np.float32)
    images = 0.35 * rng.random((n, size, size, 3), dtype=np.float32) + np.tensordot(labels, patterns, axes=1)
    return np.clip(images, 0, 1).astype(np.float32) * 2 - 1, labels


def make_data(args):
    rng = np.random.default_rng(args.seed)
    size = 32
    yy, xx = np.mgrid[0:size, 0:size] / size
    patterns = np.stack([
        np.exp(-((yy - rng.uniform(0.2, 0.8)) ** 2 + (xx - rng.uniform(0.2, 0.8)) ** 2) / (2 * rng.uniform(0.08, 0.18) ** 2))[:, :, None]
        * rng.uniform(0.3, 1.0, 3)[None, None, :]
        for _ in range(args.num_classes)
    ]).astype(np.float32)
    return generate(args.train_size, size, args.num_classes, rng, patterns), generate(args.val_size, size, args.num_classes, rng, patterns)


def build_model(classes):
    inputs = keras.Input((32, 32, 3))
    x = inputs
    for i, name in enumerate(CONV_LAYERS):
        x = keras.layers.Conv2D(16 * 2**i, 3, strides=2 if i else 1, padding="same", activation="relu", name=name)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(classes, name="logits")(x))


def make_optimizer(args):
    lr = args.learning_rate
    if args.optimizer == "sgd":
        return keras.optimizers.SGD(lr)
    if args.optimizer == "momentum":
        return keras.optimizers.SGD(lr, momentum=args.momentum)
    if args.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(lr, epsilon=args.opt_epsilon)
    return keras.optimizers.Adam(lr, epsilon=args.opt_epsilon)


class ExactAUC(keras.callbacks.Callback):
    """Adds scikit-learn's ROC AUC on the validation set to the epoch's logs: per class with both
    labels present (``val_auc_exact_class_<k>``) and their mean (``val_auc_exact``). List it before
    the TensorBoard callback, which writes the logs it is handed."""

    def __init__(self, x_val, y_val, save_dir=None):
        super().__init__()
        self.x_val, self.y_val, self.save_dir = x_val, y_val, save_dir

    def on_epoch_end(self, epoch, logs=None):
        scores = self.model.predict(self.x_val, verbose=0).astype(np.float64)
        per_class = {
            f"class_{k}": roc_auc_score(self.y_val[:, k], scores[:, k])
            for k in range(self.y_val.shape[1])
            if 0 < self.y_val[:, k].sum() < len(self.y_val)
        }
        for name, auc in per_class.items():
            logs[f"val_auc_exact_{name}"] = auc
        logs["val_auc_exact"] = float(np.mean(list(per_class.values())))
        if self.save_dir:
            np.savez(os.path.join(self.save_dir, f"predictions_{epoch + 1}.npz"), scores=scores, labels=self.y_val)


def main(argv=None):
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_val, y_val) = make_data(args)
    model = build_model(args.num_classes)
    for name in CONV_LAYERS[: args.frozen_layers]:
        model.get_layer(name).trainable = False
    model.compile(optimizer=make_optimizer(args), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    os.makedirs(args.log_dir, exist_ok=True)
    model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=2,
        callbacks=[
            ExactAUC(x_val, y_val, args.log_dir if args.save_predictions else None),
            keras.callbacks.TensorBoard(args.log_dir, histogram_freq=1),
        ],
    )


if __name__ == "__main__":
    main()

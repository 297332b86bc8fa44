"""The Keras 3 callback on a tiny real model: one protocol line per epoch with Keras' logs, AUC,
layer statistics as the tfjs runner defines them, and a stop request honoured."""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from sweepd import protocol, stats  # noqa: E402
from sweepd.keras import SweepdCallback  # noqa: E402


@pytest.fixture
def trial(tmp_path, monkeypatch):
    monkeypatch.setenv("SWEEPD_METRICS_FILE", str(tmp_path / "metrics.jsonl"))
    monkeypatch.setenv("SWEEPD_CONTROL_FILE", str(tmp_path / "control.json"))
    monkeypatch.setattr(protocol, "_stop_reason", None)
    return tmp_path


def tiny(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv2")(x)
    x = keras.layers.ReLU(name="relu2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, name="logits")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def data(n=64, seed=1):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 3)) < 0.4).astype(np.float32)
    y[:, 2] = 0  # a class never present: AUC undefined, listed
    x = rng.random((n, 8, 8, 3)).astype(np.float32) + y[:, None, None, :1]
    return x, y


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_callback_reports_each_epoch(trial):
    model = tiny()
    x, y = data()
    kernel0 = np.array(model.get_layer("conv").kernel.numpy())
    probe = x[:16]
    cb = SweepdCallback(probe=probe, validation=(x, y), class_names=["a", "b", "c"], notes={"device": "cpu"})
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[cb])
    records = lines(trial / "metrics.jsonl")
    assert [r["epoch"] for r in records] == [1, 2]
    last = records[-1]
    assert last["sweepd"] == 1 and "train_loss" in last["metrics"] and "loss" not in last["metrics"]
    assert {"val_auc_macro", "val_auc_micro", "val_auc[a]", "val_auc[b]"} <= set(last["metrics"])
    assert last["notes"]["auc_undefined_classes"] == ["c"] and last["notes"]["device"] == "cpu"
    layers = {e["layer"]: e for e in last["layers"]}
    assert set(layers) == {"conv", "conv2", "relu2", "logits"}
    kernel2 = np.array(model.get_layer("conv").kernel.numpy())
    assert layers["conv"]["kernelMovement"] == pytest.approx(stats.relative_movement(kernel2, kernel0), rel=1e-9)
    assert layers["conv"]["kernelMovement"] > 0 and layers["conv"]["updateRatio"] > 0
    assert layers["conv"]["quantiles"] == pytest.approx(stats.summarize(kernel2)["quantiles"], rel=1e-12)
    # sparsity of the conv's own relu output rides on its entry, the ReLU layer gets its own
    probe_model = keras.Model(model.inputs[0], [model.get_layer("conv").output, model.get_layer("relu2").output])
    a1, a2 = (np.asarray(t) for t in probe_model(probe, training=False))
    assert layers["conv"]["sparsity"] == stats.activation_sparsity(a1)["sparsity"]
    assert layers["relu2"]["deadFraction"] == stats.activation_sparsity(a2)["deadFraction"]
    assert layers["relu2"]["trainable"] is False and "sparsity" not in layers["logits"]


def test_callback_stops_training_on_request(trial):
    (trial / "control.json").write_text(json.dumps({"stop": True, "reason": "median"}))
    model = tiny()
    x, y = data()
    model.fit(x, y, epochs=5, batch_size=16, verbose=0, callbacks=[SweepdCallback()])
    assert [r["epoch"] for r in lines(trial / "metrics.jsonl")] == [1]


def test_two_fit_stages_report_as_one_trial(trial):
    # The head first with the convolutions frozen, then everything: each stage with its own callback.
    model = tiny()
    x, y = data()
    kernel0 = np.array(model.get_layer("conv").kernel.numpy())
    model.get_layer("conv").trainable = False
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[SweepdCallback()])
    model.get_layer("conv").trainable = True
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[SweepdCallback()])
    # A third stage that says where it starts (initial_epoch) is numbered as it says.
    model.fit(x, y, epochs=6, initial_epoch=4, batch_size=16, verbose=0, callbacks=[SweepdCallback()])
    records = lines(trial / "metrics.jsonl")
    assert [r["epoch"] for r in records] == [1, 2, 3, 4, 5, 6]
    conv = [next(e for e in r["layers"] if e["layer"] == "conv") for r in records]
    assert conv[1]["kernelMovement"] == 0  # frozen in stage 1
    # Stage 2 moves the kernel from where the first fit() started, not from where stage 2 did.
    kernel = np.array(model.get_layer("conv").kernel.numpy())
    assert conv[-1]["kernelMovement"] == pytest.approx(stats.relative_movement(kernel, kernel0), rel=1e-9)
    # Another model in the same process is a run of its own, from epoch 1.
    other = tiny(seed=3)
    other.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[SweepdCallback()])
    assert lines(trial / "metrics.jsonl")[-1]["epoch"] == 1


def test_probe_reads_the_relus_of_a_nested_base_model(trial):
    # The usual transfer-learning shape: a pretrained base (here behind a preprocessing layer) nested
    # in the model. Its ReLUs are not connected to the outer inputs: building one probe model over
    # them raised inside fit() ("Output with path '0' is not connected to 'inputs'").
    keras.utils.set_random_seed(0)
    base = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, activation="relu", name="conv1"), keras.layers.GlobalAveragePooling2D()],
        name="base",
    )
    base.trainable = False
    inputs = keras.Input((8, 8, 3))
    scaled = keras.layers.Rescaling(2.0, offset=-1.0, name="scale")(inputs)
    hidden = keras.layers.Dense(5, activation="relu", name="hidden")(base(scaled))
    model = keras.Model(inputs, keras.layers.Dense(3, name="logits")(hidden))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    x, y = data()
    probe = x[:16]
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[SweepdCallback(probe=probe)])
    [record] = lines(trial / "metrics.jsonl")
    entries = {e["layer"]: e for e in record["layers"]}
    conv1 = np.asarray(keras.Model(base.inputs[0], base.get_layer("conv1").output)(probe * 2.0 - 1.0))
    expected = stats.activation_sparsity(conv1, axis=-1)
    assert entries["conv1"]["trainable"] is False and entries["conv1"]["kernelMovement"] == 0
    assert entries["conv1"]["sparsity"] == pytest.approx(expected["sparsity"], abs=1e-9)
    assert entries["conv1"]["deadFraction"] == pytest.approx(expected["deadFraction"], abs=1e-9)
    assert "sparsity" in entries["hidden"]
    assert "activation_stats_skipped" not in record.get("notes", {})


class _Block(keras.Model):
    """A subclassed block: the layers inside its call() have no symbolic output to probe."""

    def __init__(self):
        super().__init__(name="block")
        self.inner = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="inner")

    def call(self, x):
        return self.inner(x)


def test_probe_skips_what_it_cannot_read_and_says_so(trial):
    # A ReLU inside a subclassed block cannot be probed: it is left out and named, and fit() goes on.
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="outer")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(_Block()(x))
    model = keras.Model(inputs, keras.layers.Dense(3, name="logits")(pooled))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    x, y = data()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[SweepdCallback(probe=x[:16])])
    records = lines(trial / "metrics.jsonl")
    assert [r["epoch"] for r in records] == [1, 2]
    assert [s.split(":")[0] for s in records[-1]["notes"]["activation_stats_skipped"]] == ["inner"]
    entries = {e["layer"]: e for e in records[-1]["layers"]}
    assert "sparsity" in entries["outer"] and "sparsity" not in entries["inner"]


def test_activations_before_training_are_in_the_first_epochs_notes(trial):
    # What is dead after epoch 1 may have died in it: sweepd compares with the units before any step.
    model = tiny()
    x, y = data()
    probe = x[:16]
    probe_model = keras.Model(model.inputs[0], [model.get_layer("conv").output, model.get_layer("relu2").output])
    before = [stats.activation_sparsity(np.asarray(t), axis=-1) for t in probe_model(probe, training=False)]
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[SweepdCallback(probe=probe)])
    # A second stage reports no start of its own: the run's start is before the first stage.
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[SweepdCallback(probe=probe)])
    records = lines(trial / "metrics.jsonl")
    start = records[0]["notes"]["activations_at_start"]
    assert start == {
        "conv": pytest.approx(before[0], abs=1e-12),
        "relu2": pytest.approx(before[1], abs=1e-12),
    }
    assert all("activations_at_start" not in r.get("notes", {}) for r in records[1:])


def test_layers_of_one_name_in_two_nested_models_are_reported_by_their_paths(trial):
    # Two backbones each with a conv1: Keras keeps names unique within one model only. The callback
    # compared one conv1 with the other's starting weights (a ValueError out of the user's fit()).
    keras.utils.set_random_seed(0)
    conv = {"padding": "same", "activation": "relu", "name": "conv1"}
    base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, **conv)], name="base")
    base2 = keras.Sequential([keras.Input((8, 8, 4)), keras.layers.Conv2D(4, 3, **conv)], name="base2")
    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.Dense(3, name="head")(keras.layers.GlobalAveragePooling2D()(base2(base(inputs))))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    x, y = data()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[SweepdCallback(probe=x[:16], validation=(x, y))])
    records = lines(trial / "metrics.jsonl")
    assert [r["epoch"] for r in records] == [1, 2]
    layers = {entry["layer"]: entry for entry in records[-1]["layers"]}
    assert sorted(layers) == ["base/conv1", "base2/conv1", "head"]
    # Each conv1 against its own start, with its own ReLU's sparsity beside its weights.
    for name in ("base/conv1", "base2/conv1"):
        assert layers[name]["kernelMovement"] > 0
        assert "sparsity" in layers[name]


def test_a_top_level_layer_keeps_its_name_beside_a_nested_one_of_that_name(trial):
    keras.utils.set_random_seed(0)
    base = keras.Sequential(
        [keras.Input((8, 8, 4)), keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")], name="base"
    )
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(inputs)
    outputs = keras.layers.Dense(3, name="head")(keras.layers.GlobalAveragePooling2D()(base(x)))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    x_data, y = data()
    model.fit(x_data, y, epochs=1, batch_size=16, verbose=0, callbacks=[SweepdCallback(probe=x_data[:16])])
    assert sorted(entry["layer"] for entry in lines(trial / "metrics.jsonl")[-1]["layers"]) == ["base/conv1", "conv1", "head"]


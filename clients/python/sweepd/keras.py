"""A Keras 3 callback that reports each epoch to sweepd with the tfjs runner's layer statistics.

    from sweepd.keras import SweepdCallback
    model.fit(x, y, epochs=n, callbacks=[SweepdCallback(probe=x_val[:64], validation=(x_val, y_val), class_names=names)])

Each epoch it reports Keras' logs as metrics (plus ``val_auc_macro``, ``val_auc_micro`` and
``val_auc[<class>]`` when ``validation`` is given), one entry per layer with a kernel
(kernelMovement, biasMovement, updateRatio, mean, std, fractionNegative, quantiles), the sparsity
and dead units of every ReLU output on the probe batch (channels last), and sets
``model.stop_training`` when sweepd asks the trial to stop (checked after every batch).

Several ``fit()`` calls on one model (the head first, then the unfrozen network, each with its
own callback) report as one trial: epochs go on from the last one reported (``initial_epoch`` is
honoured), and weight movement is measured from the weights the first ``fit()`` started from.
Without this, the second stage's epochs 1, 2, … would replace the first stage's.
"""

from __future__ import annotations

import time
import weakref
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence, Tuple

import keras
import numpy as np

from .auc import multilabel_auc
from .protocol import report, should_stop
from .stats import absolute_movement, activation_sparsity, kernel_stats

_KERNEL_NAMES = ("kernel", "depthwise_kernel")


def _kernel_and_bias(layer: Any) -> Tuple[Optional[Any], Optional[Any]]:
    kernel = None
    for attr in _KERNEL_NAMES:
        v = getattr(layer, attr, None)
        if v is not None and hasattr(v, "numpy"):
            kernel = v
            break
    bias = getattr(layer, "bias", None)
    return kernel, bias if bias is not None and hasattr(bias, "numpy") else None


def _is_model(layer: Any) -> bool:
    return bool(getattr(layer, "layers", None))


def _named_layers(model: Any) -> List[Tuple[str, Any]]:
    """Every layer, nested models opened, each with the name it is reported under: its own, or,
    where nested models hold layers of one name (two backbones each with a ``conv1``), its path
    (``base/conv1``; a top-level one keeps its name). Keras keeps names unique within one model
    only; reports need them unique. Read from the whole model, so a layer added between two fit()
    calls may rename another, whose movement then starts again from its weights then."""
    paths: List[Tuple[str, Any]] = []
    seen = set()

    def walk(owner: Any, prefix: str) -> None:
        for layer in owner.layers:
            if id(layer) in seen:  # a layer shared between models is reported once
                continue
            seen.add(id(layer))
            path = f"{prefix}{layer.name}"
            if _is_model(layer):
                walk(layer, f"{path}/")
            else:
                paths.append((path, layer))

    walk(model, "")
    counts = Counter(layer.name for _, layer in paths)
    return [(layer.name if counts[layer.name] == 1 else path, layer) for path, layer in paths]


class _Probe:
    """ReLU outputs of one model of the network (the whole model, or one nested in it) on the probe
    batch. A nested model's ReLUs are not connected to the outer model's inputs (Keras raises
    "Output with path '0' is not connected to 'inputs'"): they are read off a model over the nested
    model's own inputs, fed what the layers before it make of the probe batch (``feed``)."""

    def __init__(self, owner: Any, relus: List[Any], feed: Any) -> None:
        self.relus = relus
        self.feed = feed  # None: the probe batch itself; else a function of it
        inputs = owner.inputs
        # a single input as itself: a one-element list draws Keras' structure warning on each call
        self.model = keras.Model(inputs=inputs[0] if len(inputs) == 1 else inputs, outputs=[layer.output for layer in relus])

    def outputs(self, batch: Any) -> List[Any]:
        out = self.model(batch if self.feed is None else self.feed(batch), training=False)
        return list(out) if isinstance(out, (list, tuple)) else [out]


def _probes(model: Any, skipped: List[str], feed: Any = None) -> List[_Probe]:
    """One _Probe per model of the network that has ReLUs. What cannot be probed (a ReLU inside a
    subclassed model's ``call()`` has no symbolic output) is left out and named in ``skipped``: the
    statistics are a diagnosis aid, and must never break the user's fit()."""
    probes: List[_Probe] = []
    relus = []
    for layer in model.layers:
        if not _is_relu(layer) or _is_model(layer):
            continue
        try:
            layer.output  # noqa: B018 (raises for a layer never called symbolically)
            relus.append(layer)
        except (AttributeError, ValueError) as e:
            skipped.append(f"{layer.name}: {e}")
    if relus:
        try:
            probes.append(_Probe(model, relus, feed))
        except Exception as e:  # noqa: BLE001
            skipped.append(f"{model.name}: {e}")
    for layer in model.layers:
        if not _is_model(layer):
            continue
        try:
            # what reaches the nested model, computed from the enclosing model's inputs
            inputs = model.inputs
            node_inputs = layer._inbound_nodes[0].input_tensors
            to_nested = keras.Model(
                inputs=inputs[0] if len(inputs) == 1 else inputs,
                outputs=node_inputs[0] if len(node_inputs) == 1 else node_inputs,
            )
        except Exception as e:  # noqa: BLE001
            skipped.append(f"{layer.name}: {e}")
            continue

        def nested_feed(batch: Any, outer: Any = feed, to_nested: Any = to_nested) -> Any:
            return to_nested(batch if outer is None else outer(batch), training=False)

        probes.extend(_probes(layer, skipped, nested_feed))
    return probes


def _is_relu(layer: Any) -> bool:
    if isinstance(layer, keras.layers.ReLU):
        return True
    if isinstance(layer, keras.layers.Activation):
        return getattr(layer.activation, "__name__", "") == "relu"
    return getattr(getattr(layer, "activation", None), "__name__", "") == "relu"


class _ModelRun:
    """What the fit() calls on one model share: the last epoch reported and the starting weights."""

    def __init__(self) -> None:
        self.last_epoch = 0
        self.initial: Dict[str, Tuple[np.ndarray, Optional[np.ndarray]]] = {}
        self.previous: Dict[str, np.ndarray] = {}
        #: each ReLU's sparsity and dead units before the first fit() trained: reported once, in the first epoch's notes
        self.activations_at_start: Optional[Dict[str, Dict[str, float]]] = None
        self.start_reported = False


_runs: "weakref.WeakKeyDictionary[Any, _ModelRun]" = weakref.WeakKeyDictionary()


def _run_of(model: Any) -> _ModelRun:
    try:
        run = _runs.get(model)
        if run is None:
            run = _runs[model] = _ModelRun()
        return run
    except TypeError:  # a model that cannot be weakly referenced: this fit() on its own
        return _ModelRun()


class SweepdCallback(keras.callbacks.Callback):
    """Reports every epoch to sweepd (see the module's docstring).

    probe: a fixed input batch for activation sparsity (None: no sparsity). validation: (x, y)
    multi-label data whose per-class AUC is added (None: only Keras' logs). class_names: names for
    the AUC metrics. notes: a dict added to every epoch's notes.
    """

    def __init__(
        self,
        probe: Any = None,
        validation: Optional[Tuple[Any, Any]] = None,
        class_names: Optional[Sequence[str]] = None,
        notes: Optional[Dict[str, Any]] = None,
        layer_stats: bool = True,
    ) -> None:
        super().__init__()
        self.probe = probe
        self.validation = validation
        self.class_names = class_names
        self.extra_notes = dict(notes or {})
        self.layer_stats = layer_stats
        self._run = _ModelRun()
        self._offset: Optional[int] = None
        self._probes: List[_Probe] = []
        self._probe_skipped: List[str] = []
        #: each layer's reported name, by id: its own, or its path where nested models repeat it
        self._names: Dict[int, str] = {}
        self.last_seconds = 0.0

    def on_train_begin(self, logs: Any = None) -> None:
        self._run = _run_of(self.model)
        self._offset = None
        if not self.layer_stats:
            return
        self._weighted = []
        run = self._run
        named = _named_layers(self.model)
        self._names = {id(layer): name for name, layer in named}
        for name, layer in named:
            kernel, bias = _kernel_and_bias(layer)
            if kernel is None:
                continue
            k = np.array(kernel.numpy(), dtype=np.float32)
            self._weighted.append((name, layer))
            known = run.initial.get(name)
            # An earlier fit() of this model saw the layer: movement goes on from where it started.
            if known is None or known[0].shape != k.shape:
                run.initial[name] = (k, None if bias is None else np.array(bias.numpy(), dtype=np.float32))
                run.previous[name] = k
        if self.probe is not None:
            self._probe_skipped = []
            self._probes = _probes(self.model, self._probe_skipped)
            if run.activations_at_start is None and run.last_epoch == 0:
                # Before any step: what is dead after epoch 1 may have died in it (a rate too high).
                run.activations_at_start = {e["layer"]: {k: e[k] for k in ("sparsity", "deadFraction")} for e in self._activations()}

    def collect(self) -> List[Dict[str, Any]]:
        """This epoch's layer entries (weights, then ReLU activations on the probe batch)."""
        started = time.perf_counter()
        entries: List[Dict[str, Any]] = []
        by_name: Dict[str, Dict[str, Any]] = {}
        for name, layer in self._weighted:
            kernel, bias = _kernel_and_bias(layer)
            current = np.array(kernel.numpy(), dtype=np.float32)
            initial, initial_bias = self._run.initial[name]
            entry: Dict[str, Any] = {"layer": name, "trainable": bool(layer.trainable)}
            entry.update(kernel_stats(current, initial, self._run.previous[name]))
            if bias is not None and initial_bias is not None:
                entry["biasMovement"] = absolute_movement(bias.numpy(), initial_bias)
            self._run.previous[name] = current
            entries.append(entry)
            by_name[name] = entry
        for activation in self._activations():
            # a Dense/Conv with activation='relu' carries its sparsity in its own entry, as in tfjs
            if activation["layer"] in by_name:
                by_name[activation["layer"]].update({k: v for k, v in activation.items() if k != "layer"})
            else:
                entries.append({**activation, "trainable": False})
        self.last_seconds = time.perf_counter() - started
        return entries

    def _activations(self) -> List[Dict[str, Any]]:
        """Sparsity and dead units of every ReLU the probes read, on the probe batch now."""
        out: List[Dict[str, Any]] = []
        for probe in list(self._probes):
            try:
                outputs = probe.outputs(self.probe)
            except Exception as e:  # noqa: BLE001 (a diagnosis aid must not end the user's fit())
                self._probe_skipped.append(f"{', '.join(layer.name for layer in probe.relus)}: {e}")
                self._probes = [p for p in self._probes if p is not probe]
                continue
            for layer, value in zip(probe.relus, outputs):
                out.append({"layer": self._names.get(id(layer), layer.name), **activation_sparsity(np.asarray(value), axis=-1)})
        return out

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        # one stat() per batch: a stop request ends the epoch early (Keras 3 checks after each batch)
        if should_stop():
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        metrics: Dict[str, float] = {}
        for k, v in (logs or {}).items():
            try:
                # Keras' training loss is `loss`; sweepd's name for it is `train_loss`, which the
                # dashboard draws and the divergence rule watches.
                metrics["train_loss" if k == "loss" else k] = float(v)
            except (TypeError, ValueError):
                continue
        notes: Dict[str, Any] = dict(self.extra_notes)
        if self.validation is not None:
            x, y = self.validation
            scores = np.asarray(self.model.predict(x, verbose=0))
            try:
                auc = multilabel_auc(np.asarray(y), scores, self.class_names)
                metrics.update(auc.metrics())
                notes.update(auc.notes())
            except ValueError as e:  # NaN scores: the run diverged; the loss says so
                notes["auc_error"] = str(e)
        layers = self.collect() if self.layer_stats else None
        if layers is not None:
            notes["diagnostics_seconds"] = self.last_seconds
        if self._probe_skipped:
            notes["activation_stats_skipped"] = list(self._probe_skipped)
        if self._run.activations_at_start and not self._run.start_reported:
            notes["activations_at_start"] = self._run.activations_at_start
            self._run.start_reported = True
        if self._offset is None:
            # The first epoch of this fit(): one that would repeat an earlier fit()'s epochs goes on after them.
            self._offset = max(0, self._run.last_epoch - epoch)
        number = epoch + 1 + self._offset
        self._run.last_epoch = max(self._run.last_epoch, number)
        report(number, metrics, layers=layers, notes=notes)
        if should_stop():
            self.model.stop_training = True

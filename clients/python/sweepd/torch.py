"""Per-layer statistics of a PyTorch model, as sweepd's tfjs runner stores them.

``LayerStats(model)`` snapshots the weights of every convolution and linear layer when it is made
(the pretrained start); ``collect()`` at the end of each epoch returns one protocol entry per layer —
kernelMovement, biasMovement, updateRatio, mean, std, fractionNegative, quantiles — and one per
ReLU call measured on a fixed probe batch (sparsity and dead units; units are channels, axis 1):
by ``watch()`` around the first batch of the script's own validation pass, by ``measure(batch)``,
or by a ``probe=`` batch run in every ``collect()``.

Sums run in float64 like the tfjs runner's: through numpy views for CPU float32 weights, on the
weights' own device otherwise. Frozen layers
(``requires_grad=False``) whose weights were not modified in place since the last epoch (their
version counter says so) reuse the statistics computed before.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

try:
    import numpy as _np
except ImportError:  # the torch path below computes the same numbers
    _np = None

from .stats import QUANTILE_LEVELS, quantile_ranks, quantiles_from_order_stats, ratio

#: Layers with a kernel whose statistics are reported.
WEIGHTED_TYPES: Tuple[type, ...] = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear)
#: Activations whose output zeros are counted (those of the probe batch).
RELU_TYPES: Tuple[type, ...] = (nn.ReLU, nn.ReLU6)


def _sq(x) -> float:
    """Σx² without BLAS: np.dot goes through a threaded BLAS whose threads, on busy shared cores,
    made one 37k-value kernel take 9 ms instead of 15 µs."""
    return float(_np.einsum("i,i->", x, x))


def _order_stats(flat: torch.Tensor, ranks: List[int]) -> Dict[int, float]:
    if flat.device.type == "cpu" and _np is not None:
        # A full sort, not np.partition at the ranks: numpy 2's SIMD sort took 0.08 ms for a
        # 37k-value kernel here, a partition at its 13 ranks 0.75 ms.
        ordered = _np.sort(flat.numpy())
        return {r: float(ordered[r]) for r in ranks}
    ordered = torch.sort(flat).values
    picked = ordered[torch.tensor(ranks, device=flat.device)].tolist()
    return dict(zip(ranks, picked))


def kernel_summary(kernel: torch.Tensor) -> Dict[str, Any]:
    """mean, std (population), fractionNegative and quantiles of a kernel, as weights.ts defines them."""
    flat = kernel.detach().reshape(-1).float()
    n = flat.numel()
    if n == 0:
        raise ValueError("kernel_summary: no values")
    v = flat.double()
    mean_t = v.mean()
    std_t = (v - mean_t).square().mean().sqrt()
    neg_t = (flat < 0).sum()
    nan_t = flat.isnan().any()
    mean, std, negative, has_nan = torch.stack([mean_t, std_t, neg_t.double(), nan_t.double()]).tolist()
    if has_nan:
        q = [math.nan] * len(QUANTILE_LEVELS)
    else:
        ranks = quantile_ranks(n)
        q = quantiles_from_order_stats(n, _order_stats(flat.contiguous(), ranks))
    return {"mean": mean, "std": std, "fractionNegative": negative / n, "quantiles": q}


def _nonzero_per_channel(output: torch.Tensor):
    """Nonzero count of each channel (axis 1) of an activation: numpy's count_nonzero over the
    other axes for CPU float tensors (a strided view, no copy: ~7× faster than torch's
    count_nonzero with dims), torch's on other devices and dtypes."""
    if _np is not None and output.device.type == "cpu" and output.dtype in (torch.float32, torch.float64):
        axes = (0,) + tuple(range(2, output.dim()))
        return _np.count_nonzero(output.detach().numpy(), axis=axes)
    return torch.count_nonzero(output, dim=0) if output.dim() == 2 else torch.count_nonzero(output.flatten(2), dim=(0, 2))


def _host_pairs(pairs: List[Tuple[Any, Any]]) -> List[List[int]]:
    """(zeros, dead) pairs as ints: numpy counts as they are, device tensors with one sync for them all."""
    on_device = [i for i, (z, _) in enumerate(pairs) if isinstance(z, torch.Tensor)]
    synced = dict(zip(on_device, torch.stack([torch.stack(list(pairs[i])) for i in on_device]).tolist())) if on_device else {}
    return [[int(v) for v in synced.get(i, pair)] for i, pair in enumerate(pairs)]


def _distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(a.double() - b.double())


class LayerStats:
    """Tracks a model's layer statistics from now on (see the module's docstring).

    model: any nn.Module. probe: a fixed input batch (tensor, or tuple of model arguments) that
    ``collect()`` runs through the model for activation sparsity (an extra forward pass each epoch);
    or leave it out and wrap the first batch of your own validation pass in ``watch()``, which costs
    only the counting. layer_types / relu_types override which modules
    count as weighted layers and as ReLUs. Functional ReLUs (``F.relu`` inside ``forward``) cannot be
    seen; use nn.ReLU modules for them to be measured. A ReLU module called several times in one
    forward (torchvision's BasicBlock) gives one entry per call: ``name``, ``name#2``, ….
    """

    def __init__(
        self,
        model: nn.Module,
        probe: Any = None,
        *,
        layer_types: Sequence[type] = WEIGHTED_TYPES,
        relu_types: Sequence[type] = RELU_TYPES,
    ) -> None:
        self.model = model
        self.probe = probe
        self.relu_types = tuple(relu_types)
        self.layers: List[Tuple[str, nn.Module]] = [
            (name or type(m).__name__, m)  # the root module has no name of its own
            for name, m in model.named_modules()
            if isinstance(m, tuple(layer_types)) and getattr(m, "weight", None) is not None
        ]
        lazy = [name for name, m in self.layers if isinstance(m.weight, nn.parameter.UninitializedParameter)]
        if lazy:
            raise ValueError(
                f"LayerStats: {', '.join(lazy[:5])}{' …' if len(lazy) > 5 else ''} still have no weights (lazy modules, "
                "made on the first forward pass): make LayerStats after one forward pass, so that it snapshots them"
            )
        self._initial: Dict[str, Tuple[torch.Tensor, Optional[torch.Tensor]]] = {}
        self._previous: Dict[str, torch.Tensor] = {}
        self._initial_norm: Dict[str, float] = {}
        self._cached: Dict[str, Tuple[int, Dict[str, Any]]] = {}
        self._activations: Dict[str, Dict[str, Any]] = {}
        #: seconds the last collect() took, with the hooks' time in watch() since the one before
        self.last_seconds = 0.0
        self.hook_seconds = 0.0
        #: each ReLU's sparsity and dead units as first measured before training (the model as it was
        #: when the tracker was made, before the first collect()); never overwritten: see start_notes()
        self.activations_at_start: Dict[str, Dict[str, float]] = {}
        #: measurements still count as the start: no collect() yet and the model unchanged since now
        self._at_start = True
        self._versions = self._state_versions()
        with torch.no_grad():
            for name, m in self.layers:
                w = m.weight.detach()
                b = m.bias.detach().clone() if getattr(m, "bias", None) is not None else None
                self._initial[name] = (w.clone(), b)
                self._previous[name] = w.clone()
                self._initial_norm[name] = float(torch.linalg.vector_norm(w.double()))
        if probe is not None:
            self.measure()  # before training: the start that start_notes() reports

    def _state_versions(self) -> List[int]:
        return [t._version for t in (*self.model.parameters(), *self.model.buffers())]

    def _still_at_start(self) -> bool:
        """Whether the model is still as it was when the tracker was made: no collect() yet, no
        parameter or buffer modified in place (their version counters), and the weighted layers'
        weights equal to the snapshot (a fused optimizer or ``p.data`` updates leave the counters)."""
        if self._at_start:
            with torch.no_grad():
                self._at_start = self._state_versions() == self._versions and all(
                    torch.equal(m.weight.detach(), self._initial[name][0])
                    and (self._initial[name][1] is None or torch.equal(m.bias.detach(), self._initial[name][1]))
                    for name, m in self.layers
                )
        return self._at_start

    def _layer(self, name: str, m: nn.Module) -> Dict[str, Any]:
        w = m.weight
        trainable = bool(w.requires_grad)
        version = w._version
        cached = self._cached.get(name)
        current = w.detach()
        # A frozen layer's figures are kept while its weights stay as they were: its version counter,
        # and the weights themselves, since ``p.data`` updates (an EMA teacher's) leave the counter.
        if not trainable and cached is not None and cached[0] == version and torch.equal(current, self._previous[name]):
            entry = dict(cached[1])
            if "updateRatio" in entry:
                entry["updateRatio"] = 0.0  # no step since the figures were taken
            return entry
        if _np is not None and current.device.type == "cpu" and current.dtype == torch.float32:
            entry = self._layer_numpy(name, m, current, trainable)
        else:
            entry = self._layer_torch(name, m, current, trainable)
        if not trainable:
            self._cached[name] = (version, dict(entry))
        return entry

    def _layer_numpy(self, name: str, m: nn.Module, current: torch.Tensor, trainable: bool) -> Dict[str, Any]:
        """CPU float32 weights through numpy views: a dozen cheap calls per layer instead of ~30 torch ops."""
        np = _np
        initial, initial_bias = self._initial[name]
        previous = self._previous[name]
        cur = current.numpy().reshape(-1)
        scratch = cur.astype(np.float64)
        init64 = initial.numpy().reshape(-1).astype(np.float64)
        prev64 = previous.numpy().reshape(-1).astype(np.float64)
        n = cur.size
        d = scratch - init64
        moved = math.sqrt(_sq(d))
        np.subtract(scratch, prev64, out=d)
        step = math.sqrt(_sq(d))
        prev_norm = math.sqrt(_sq(prev64))
        mean = float(scratch.sum()) / n
        np.subtract(scratch, mean, out=d)
        std = math.sqrt(_sq(d) / n)
        entry: Dict[str, Any] = {
            "layer": name,
            "trainable": trainable,
            "kernelMovement": ratio(moved, self._initial_norm[name]),
            "updateRatio": ratio(step, prev_norm),
        }
        bias = getattr(m, "bias", None)
        if bias is not None and initial_bias is not None:
            b = bias.detach().numpy().reshape(-1).astype(np.float64) - initial_bias.numpy().reshape(-1).astype(np.float64)
            entry["biasMovement"] = math.sqrt(_sq(b))
        if math.isnan(mean) and bool(np.isnan(cur).any()):
            q = [math.nan] * len(QUANTILE_LEVELS)
        else:
            ranks = quantile_ranks(n)
            ordered = np.sort(cur)  # a sort beats a partition at the ranks (_order_stats)
            q = quantiles_from_order_stats(n, {r: float(ordered[r]) for r in ranks})
        entry.update(mean=mean, std=std, fractionNegative=int(np.count_nonzero(cur < 0)) / n, quantiles=q)
        previous.copy_(current)
        return entry

    def _layer_torch(self, name: str, m: nn.Module, current: torch.Tensor, trainable: bool) -> Dict[str, Any]:
        """Any device and dtype: float64 reductions on the weights' device, one host sync for the norms."""
        initial, initial_bias = self._initial[name]
        previous = self._previous[name]
        moved_t = _distance(current, initial)
        step_t = _distance(current, previous)
        prev_norm_t = torch.linalg.vector_norm(previous.double())
        parts = [moved_t, step_t, prev_norm_t]
        bias = getattr(m, "bias", None)
        if bias is not None and initial_bias is not None:
            parts.append(_distance(bias.detach(), initial_bias))
        values = torch.stack(parts).tolist()  # one device sync for the norms
        entry: Dict[str, Any] = {
            "layer": name,
            "trainable": trainable,
            "kernelMovement": ratio(values[0], self._initial_norm[name]),
            "updateRatio": ratio(values[1], values[2]),
        }
        if len(values) > 3:
            entry["biasMovement"] = values[3]
        entry.update(kernel_summary(current))
        previous.copy_(current)
        return entry

    @contextmanager
    def watch(self):
        """Measures the ReLU outputs of the one forward pass run inside the block, e.g. the first
        batch of the script's own validation pass (then the probe costs no extra forward):

            with stats.watch():
                logits = model(val_images[:64])

        The caller picks the mode (eval, no_grad, as a validation pass is). Entries measured earlier
        for ReLUs this pass does not reach (a frozen prefix run once through ``measure``) are kept.
        A pass run before any training step (see ``start_notes``) is also kept as the start.
        """
        results: List[Tuple[str, torch.Tensor, torch.Tensor, int, int]] = []
        calls: Dict[str, int] = {}
        t0 = time.perf_counter()
        at_start = self._still_at_start()
        spent = [time.perf_counter() - t0]

        def hook_for(name: str):
            def hook(_module, _inputs, output):
                if not isinstance(output, torch.Tensor) or output.dim() < 2:
                    return
                t0 = time.perf_counter()
                calls[name] = calls.get(name, 0) + 1
                key = name if calls[name] == 1 else f"{name}#{calls[name]}"
                # nonzeros per channel (axis 1) in one pass; NaN is not zero: a unit giving NaN is broken, not dead
                nonzero = _nonzero_per_channel(output)
                zeros = output.numel() - nonzero.sum()
                dead = (nonzero == 0).sum()
                results.append((key, zeros, dead, output.numel(), output.shape[1]))
                spent[0] += time.perf_counter() - t0

            return hook

        found = [(n or type(m).__name__, m) for n, m in self.model.named_modules() if isinstance(m, self.relu_types)]
        handles = [m.register_forward_hook(hook_for(n)) for n, m in found]
        try:
            yield self
        finally:
            for h in handles:
                h.remove()
        t0 = time.perf_counter()
        if results:
            counts = _host_pairs([(z, d) for _, z, d, _, _ in results])
            for (key, _, _, numel, units), (zeros, dead) in zip(results, counts):
                self._activations[key] = {"layer": key, "trainable": False, "sparsity": zeros / numel, "deadFraction": dead / units}
                if at_start:  # the first measurement of each ReLU before training stays the start
                    self.activations_at_start.setdefault(key, {"sparsity": zeros / numel, "deadFraction": dead / units})
        self.hook_seconds += spent[0] + time.perf_counter() - t0

    def measure(self, probe: Any = None) -> None:
        """Runs ``probe`` (default: the probe given at construction) through the model now, in eval
        mode without gradients, measuring every ReLU; the modules' modes are restored after."""
        probe = self.probe if probe is None else probe
        if probe is None:
            raise ValueError("LayerStats.measure(): no probe batch (pass one here or as LayerStats(model, probe=…))")
        modes = [(m, m.training) for m in self.model.modules()]
        try:
            self.model.eval()
            with torch.no_grad(), self.watch():
                if isinstance(probe, (tuple, list)):
                    self.model(*probe)
                else:
                    self.model(probe)
        finally:
            for m, mode in modes:
                m.training = mode

    def collect(self) -> List[Dict[str, Any]]:
        """This epoch's entries: one per weighted layer, then one per ReLU call measured (by the
        probe batch given at construction, run now, or by ``watch``/``measure`` since)."""
        started = time.perf_counter()
        self._at_start = False  # an epoch has been trained: later measurements are not the start
        with torch.no_grad():
            entries = [self._layer(name, m) for name, m in self.layers]
        if self.probe is not None:
            self.measure()
        entries.extend(dict(e) for e in self._activations.values())
        self.last_seconds = time.perf_counter() - started + self.hook_seconds
        self.hook_seconds = 0.0
        return entries

    def start_notes(self) -> Dict[str, Any]:
        """``{"activations_at_start": …}`` for the first epoch's notes: the ReLUs as first measured
        (by the ``probe`` given at construction, measured then, or ``measure``/``watch``) before any
        training step, i.e. while the model was still as when the tracker was made and before the
        first ``collect()``; later measurements never replace it, and it may be asked before or after
        ``collect()``. sweepd then tells units dead from the start from units a rate too high killed
        within epoch 1. Empty when nothing was measured before training."""
        return {"activations_at_start": self.activations_at_start} if self.activations_at_start else {}


#: Alias: the object is a tracker over the epochs.
LayerStatsTracker = LayerStats

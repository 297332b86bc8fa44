"""Per-layer statistics of a PyTorch model, as sweepd's tfjs runner stores them.

``LayerStats(model, probe=batch)`` snapshots the weights of every convolution and linear layer when
it is made (the pretrained start); ``collect()`` at the end of each epoch returns one protocol entry
per layer — kernelMovement, biasMovement, updateRatio, mean, std, fractionNegative, quantiles — and,
when a probe batch was given, one entry per ReLU call with the sparsity and dead units of its output
on that fixed batch (run in eval mode, without gradients; units are channels, axis 1).

Everything runs on the weights' own device; sums in float64 like the tfjs runner's. Frozen layers
(``requires_grad=False``) whose weights were not modified in place since the last epoch (their
version counter says so) reuse the statistics computed before.
"""

from __future__ import annotations

import math
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from .stats import QUANTILE_LEVELS, quantile_ranks, quantiles_from_order_stats, ratio

#: Layers with a kernel whose statistics are reported.
WEIGHTED_TYPES: Tuple[type, ...] = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear)
#: Activations whose output zeros are counted (those of the probe batch).
RELU_TYPES: Tuple[type, ...] = (nn.ReLU, nn.ReLU6)


def _order_stats(flat: torch.Tensor, ranks: List[int]) -> Dict[int, float]:
    if flat.device.type == "cpu":
        try:
            import numpy as np

            part = np.partition(flat.numpy(), ranks)  # selection, O(n), instead of a full sort
            return {r: float(part[r]) for r in ranks}
        except ImportError:
            pass
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


def _distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(a.double() - b.double())


class LayerStats:
    """Tracks a model's layer statistics from now on (see the module's docstring).

    model: any nn.Module. probe: a fixed input batch (tensor, or tuple of model arguments) for
    activation sparsity; None leaves sparsity out. layer_types / relu_types override which modules
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
        self._initial: Dict[str, Tuple[torch.Tensor, Optional[torch.Tensor]]] = {}
        self._previous: Dict[str, torch.Tensor] = {}
        self._initial_norm: Dict[str, float] = {}
        self._cached: Dict[str, Tuple[int, Dict[str, Any]]] = {}
        self.last_seconds = 0.0
        with torch.no_grad():
            for name, m in self.layers:
                w = m.weight.detach()
                b = m.bias.detach().clone() if getattr(m, "bias", None) is not None else None
                self._initial[name] = (w.clone(), b)
                self._previous[name] = w.clone()
                self._initial_norm[name] = float(torch.linalg.vector_norm(w.double()))

    def _layer(self, name: str, m: nn.Module) -> Dict[str, Any]:
        w = m.weight
        trainable = bool(w.requires_grad)
        version = w._version
        cached = self._cached.get(name)
        if not trainable and cached is not None and cached[0] == version:
            return dict(cached[1])
        current = w.detach()
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
        if not trainable:
            self._cached[name] = (version, dict(entry))
        return entry

    def _activations(self) -> List[Dict[str, Any]]:
        found = [(n or type(m).__name__, m) for n, m in self.model.named_modules() if isinstance(m, self.relu_types)]
        if not found:
            return []
        results: List[Tuple[str, torch.Tensor, torch.Tensor, int, int]] = []
        calls: Dict[str, int] = {}

        def hook_for(name: str):
            def hook(_module, _inputs, output):
                if not isinstance(output, torch.Tensor) or output.dim() < 2:
                    return
                calls[name] = calls.get(name, 0) + 1
                key = name if calls[name] == 1 else f"{name}#{calls[name]}"
                zero = output == 0
                # units are channels (axis 1): dead when zero at every sample and position
                dead = zero.transpose(0, 1).reshape(output.shape[1], -1).all(dim=1).sum()
                results.append((key, zero.sum(), dead, output.numel(), output.shape[1]))

            return hook

        handles = [m.register_forward_hook(hook_for(n)) for n, m in found]
        modes = [(m, m.training) for m in self.model.modules()]
        try:
            self.model.eval()
            with torch.no_grad():
                probe = self.probe
                if isinstance(probe, (tuple, list)):
                    self.model(*probe)
                else:
                    self.model(probe)
        finally:
            for h in handles:
                h.remove()
            for m, mode in modes:
                m.training = mode
        if not results:
            return []
        counts = torch.stack([torch.stack([z, d]) for _, z, d, _, _ in results]).tolist()
        return [
            {"layer": key, "trainable": False, "sparsity": zeros / numel, "deadFraction": dead / units}
            for (key, _, _, numel, units), (zeros, dead) in zip(results, counts)
        ]

    def collect(self) -> List[Dict[str, Any]]:
        """This epoch's entries: one per weighted layer, then one per ReLU call on the probe batch."""
        started = time.perf_counter()
        with torch.no_grad():
            entries = [self._layer(name, m) for name, m in self.layers]
            if self.probe is not None:
                entries.extend(self._activations())
        self.last_seconds = time.perf_counter() - started
        return entries


#: Alias: the object is a tracker over the epochs.
LayerStatsTracker = LayerStats

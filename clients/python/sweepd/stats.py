"""Layer statistics with the definitions of sweepd's tfjs runner (packages/core/src/metrics/weights.ts).

All sums run in double precision over the float32 values; a NaN weight gives NaN movements, mean,
std and quantiles, as numpy would. These numpy functions serve the Keras callback and CPU tensors;
sweepd.torch computes the same numbers on the tensor's own device.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Sequence

#: Kernel quantile levels (sweepd's QUANTILE_LEVELS).
QUANTILE_LEVELS = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


def _np():
    try:
        import numpy
    except ImportError as e:  # layer statistics need numpy (or torch); the rest of the client does not
        raise ImportError("sweepd layer statistics need numpy: pip install numpy") from e
    return numpy


def ratio(moved: float, size: float) -> float:
    """moved / size with 0/0 = 0 (nothing moved from nothing) and x/0 = inf for x > 0."""
    if size == 0:
        if moved == 0:
            return 0.0
        return math.inf if moved > 0 else math.nan
    return moved / size


def _f64(a: Any):
    np = _np()
    return np.asarray(a, dtype=np.float32).astype(np.float64).ravel()


def _norm(x) -> float:
    # einsum, not np.linalg.norm: that goes through a threaded BLAS, slow on busy shared cores
    return math.sqrt(float(_np().einsum("i,i->", x, x)))


def relative_movement(current: Any, initial: Any) -> float:
    """‖W_t − W_0‖ / ‖W_0‖ of a kernel since the start."""
    c, i = _f64(current), _f64(initial)
    _same(c, i, "relative_movement")
    return ratio(_norm(c - i), _norm(i))


def absolute_movement(current: Any, initial: Any) -> float:
    """‖b_t − b_0‖: biases start at zero, so their movement is absolute."""
    c, i = _f64(current), _f64(initial)
    _same(c, i, "absolute_movement")
    return _norm(c - i)


def update_ratio(current: Any, previous: Any) -> float:
    """‖W_t − W_{t−1}‖ / ‖W_{t−1}‖: the last epoch's change."""
    return relative_movement(current, previous)


def _same(a, b, fn: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{fn}: current has {a.size} values but the reference has {b.size}")


def lerp(a: float, b: float, t: float) -> float:
    """numpy's interpolation between order statistics a ≤ b: from the nearer end, exact at t = 1."""
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def quantile_ranks(n: int) -> List[int]:
    """The order-statistic ranks (0-based) the QUANTILE_LEVELS need for n values."""
    ranks = set()
    for q in QUANTILE_LEVELS:
        p = q * (n - 1)
        ranks.add(int(math.floor(p)))
        ranks.add(min(int(math.floor(p)) + 1, n - 1))
    return sorted(ranks)


def quantiles_from_order_stats(n: int, at: Dict[int, float]) -> List[float]:
    """numpy 'linear' quantiles at QUANTILE_LEVELS given the values at quantile_ranks(n)."""
    out = []
    for q in QUANTILE_LEVELS:
        p = q * (n - 1)
        lo = int(math.floor(p))
        out.append(lerp(at[lo], at[min(lo + 1, n - 1)], p - lo))
    return out


def summarize(values: Any) -> Dict[str, Any]:
    """mean, std (population), fractionNegative and quantiles of a kernel (camelCase keys)."""
    np = _np()
    v32 = np.asarray(values, dtype=np.float32).ravel()
    n = v32.size
    if n == 0:
        raise ValueError("summarize: no values")
    v = v32.astype(np.float64)
    mean = float(v.mean())
    with np.errstate(invalid="ignore"):  # inf - inf: NaN std, as weights.ts gives
        d = v - mean
        std = math.sqrt(float(np.einsum("i,i->", d, d)) / n)
    negative = int(np.count_nonzero(v32 < 0))
    if np.isnan(v32).any():
        q = [math.nan] * len(QUANTILE_LEVELS)
    else:
        ranks = quantile_ranks(n)
        # A full sort, not np.partition at the ranks: numpy 2's SIMD sort took 0.08 ms for a
        # 37k-value kernel here, a partition at its 13 ranks 0.75 ms.
        ordered = np.sort(v32)
        q = quantiles_from_order_stats(n, {r: float(ordered[r]) for r in ranks})
    return {"mean": mean, "std": std, "fractionNegative": negative / n, "quantiles": q}


def activation_sparsity(activations: Any, n_units: int = 0, *, axis: int = -1) -> Dict[str, float]:
    """Sparsity (fraction of exact zeros) and deadFraction (share of units zero on every row).

    ``axis`` is the units axis: -1 for channels-last (Keras, tfjs), 1 for PyTorch's NCHW. With
    ``n_units`` given, ``activations`` may be flat row-major [rows × n_units] as in weights.ts.
    NaN is not zero: a unit giving NaN is broken, not dead.
    """
    np = _np()
    a = np.asarray(activations)
    if n_units:
        if a.size == 0 or a.size % n_units:
            raise ValueError(f"activation_sparsity: {a.size} activations do not form whole rows of {n_units} units")
        a = a.reshape(-1, n_units)
        axis = -1
    if a.size == 0:
        raise ValueError("activation_sparsity: no activations")
    zero = a == 0
    units = np.moveaxis(zero, axis, -1).reshape(-1, a.shape[axis])
    dead = int(np.count_nonzero(units.all(axis=0)))
    return {"sparsity": int(np.count_nonzero(zero)) / a.size, "deadFraction": dead / units.shape[1]}


def kernel_stats(current: Any, initial: Any, previous: Any) -> Dict[str, Any]:
    """kernelMovement, updateRatio and the summary of a kernel, as the tfjs runner stores them."""
    out: Dict[str, Any] = {
        "kernelMovement": relative_movement(current, initial),
        "updateRatio": update_ratio(current, previous),
    }
    out.update(summarize(current))
    return out



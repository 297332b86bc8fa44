"""Multi-label ROC AUC: per class, macro and micro, as scikit-learn's roc_auc_score computes them.

A class whose labels hold a single value (all 0 or all 1) has no AUC: it is listed in
``undefined_classes`` and left out of the macro mean, never an exception (scikit-learn raises).
Ties count one half, as the trapezoids of scikit-learn's ROC curve do: the AUC is the
Mann-Whitney statistic with mid-ranks, computed here in integers (twice the rank sums) and divided
once. numpy is used when it is installed; otherwise a pure-Python path gives the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

try:  # optional: 20-100x faster on large inputs
    import numpy as _np
except ImportError:  # pragma: no cover - exercised by the pure-Python tests through use_numpy=False
    _np = None


@dataclass
class AucResult:
    """What multilabel_auc returns. AUCs are floats, or None where undefined."""

    macro: Optional[float]
    micro: Optional[float]
    per_class: Dict[str, Optional[float]]
    undefined_classes: List[str] = field(default_factory=list)
    #: Where the first NaN score was (``"scores[i][k] is NaN"``): the model diverged, every AUC is NaN.
    nan_scores: Optional[str] = None

    def metrics(self, prefix: str = "val_auc") -> Dict[str, float]:
        """Metric entries as sweepd's tfjs runner names them: ``val_auc_macro``, ``val_auc_micro``
        and ``val_auc[<class>]``; undefined values are left out."""
        out: Dict[str, float] = {}
        if self.macro is not None:
            out[f"{prefix}_macro"] = self.macro
        if self.micro is not None:
            out[f"{prefix}_micro"] = self.micro
        for name, value in self.per_class.items():
            if value is not None:
                out[f"{prefix}[{name}]"] = value
        return out

    def notes(self) -> Dict[str, Any]:
        """``{"auc_undefined_classes": [...]}``, the note the tfjs runner keeps with each epoch; with
        NaN scores also ``diverged: True`` and where the first NaN was, so sweepd calls it diverged."""
        out: Dict[str, Any] = {"auc_undefined_classes": list(self.undefined_classes)}
        if self.nan_scores is not None:
            out["diverged"] = True
            out["nan_scores"] = self.nan_scores
        return out

    def __getitem__(self, key: str) -> Any:  # dict-style access: result["macro"]
        return getattr(self, key)

    def to_dict(self) -> Dict[str, Any]:
        return {"macro": self.macro, "micro": self.micro, "per_class": dict(self.per_class), "undefined_classes": list(self.undefined_classes)}


def _as_rows(x: Any, what: str) -> List[List[float]]:
    if hasattr(x, "detach"):
        x = x.detach().cpu()
    if hasattr(x, "tolist"):
        x = x.tolist()
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in x]
    return rows


def _auc_from_sorted_ranks(pairs: List[tuple]) -> Optional[float]:
    """AUC of (score, label) pairs: 2·U from mid-ranks over tie groups, one division."""
    pairs.sort(key=lambda p: p[0])
    n = len(pairs)
    positives = 0
    twice_rank_sum = 0
    i = 0
    while i < n:
        j = i
        while j + 1 < n and pairs[j + 1][0] == pairs[i][0]:
            j += 1
        # ranks i+1 .. j+1 share the mid-rank (i + j + 2) / 2; doubled it is an integer
        pos_here = sum(1 for k in range(i, j + 1) if pairs[k][1])
        positives += pos_here
        twice_rank_sum += pos_here * (i + j + 2)
        i = j + 1
    negatives = n - positives
    if positives == 0 or negatives == 0:
        return None
    twice_u = twice_rank_sum - positives * (positives + 1)
    return twice_u / (2 * positives * negatives)


def _check_label(v: Any, i: int, k: int) -> int:
    if v in (0, 1) and not isinstance(v, str):
        return int(v)
    raise ValueError(f"multilabel_auc: labels[{i}][{k}] is {v!r}; labels must be 0 or 1 (or booleans)")


class _NanScore(ValueError):
    """A NaN score: the model diverged. multilabel_auc answers it with NaN AUCs, not an exception."""

    def __init__(self, i: int, k: int, n_classes: int) -> None:
        super().__init__(f"scores[{i}][{k}] is NaN")
        self.n_classes = n_classes


def _check_score(v: Any, i: int, k: int, n_classes: int) -> float:
    f = float(v)
    if math.isnan(f):
        raise _NanScore(i, k, n_classes)
    return f


def _pure_python(labels: Any, scores: Any, n_classes_hint: Optional[int]) -> tuple:
    y = _as_rows(labels, "labels")
    s = _as_rows(scores, "scores")
    if len(y) != len(s):
        raise ValueError(f"multilabel_auc: labels has {len(y)} rows but scores has {len(s)}")
    if not y:
        raise ValueError("multilabel_auc: no samples")
    n_classes = len(y[0])
    for i, (ry, rs) in enumerate(zip(y, s)):
        if len(ry) != n_classes or len(rs) != n_classes:
            raise ValueError(
                f"multilabel_auc: row {i} has {len(ry)} labels and {len(rs)} scores; every row needs {n_classes} of each"
            )
    per: List[Optional[float]] = []
    pooled: List[tuple] = []
    for k in range(n_classes):
        pairs = [(_check_score(s[i][k], i, k, n_classes), _check_label(y[i][k], i, k)) for i in range(len(y))]
        pooled.extend(pairs)
        per.append(_auc_from_sorted_ranks(pairs))
    return per, _auc_from_sorted_ranks(pooled), n_classes


def _auc_numpy_column(y: "Any", s: "Any") -> Optional[float]:
    positives = int(y.sum())
    negatives = y.shape[0] - positives
    if positives == 0 or negatives == 0:
        return None
    ordered = _np.sort(s, kind="stable")
    pos = s[y]
    # 1-based ranks left+1 .. right share the mid-rank (left + right + 1) / 2
    left = _np.searchsorted(ordered, pos, side="left").astype(_np.int64)
    right = _np.searchsorted(ordered, pos, side="right").astype(_np.int64)
    twice_rank_sum = int(left.sum()) + int(right.sum()) + positives
    twice_u = twice_rank_sum - positives * (positives + 1)
    return twice_u / (2 * positives * negatives)


def _with_numpy(labels: Any, scores: Any) -> tuple:
    if hasattr(labels, "detach"):
        labels = labels.detach().cpu().numpy()
    if hasattr(scores, "detach"):
        scores = scores.detach().cpu().float().numpy() if str(scores.dtype) == "torch.bfloat16" else scores.detach().cpu().numpy()
    y = _np.asarray(labels)
    s = _np.asarray(scores)
    if y.ndim == 1:
        y = y[:, None]
    if s.ndim == 1:
        s = s[:, None]
    if y.ndim != 2 or s.ndim != 2:
        raise ValueError(f"multilabel_auc: labels and scores must be [samples x classes], got shapes {y.shape} and {s.shape}")
    if y.shape != s.shape:
        raise ValueError(f"multilabel_auc: labels has shape {y.shape} but scores has {s.shape}")
    if y.shape[0] == 0:
        raise ValueError("multilabel_auc: no samples")
    if y.dtype != bool:
        bad = _np.argwhere((y != 0) & (y != 1))
        if bad.size:
            i, k = (int(v) for v in bad[0])
            raise ValueError(f"multilabel_auc: labels[{i}][{k}] is {y[i, k].item()!r}; labels must be 0 or 1 (or booleans)")
        y = y == 1
    if not _np.issubdtype(s.dtype, _np.floating):
        s = s.astype(_np.float64)
    nan = _np.argwhere(_np.isnan(s))
    if nan.size:
        i, k = (int(v) for v in nan[0])
        raise _NanScore(i, k, y.shape[1])
    per = [_auc_numpy_column(y[:, k], s[:, k]) for k in range(y.shape[1])]
    micro = _auc_numpy_column(y.ravel(), s.ravel())
    return per, micro, y.shape[1]


def _both_label_values(labels: Any, use_numpy: bool) -> List[bool]:
    """Per class, whether the labels hold both values (whether the class has an AUC at all)."""
    if use_numpy:
        if hasattr(labels, "detach"):
            labels = labels.detach().cpu().numpy()
        y = _np.asarray(labels)
        if y.ndim == 1:
            y = y[:, None]
        y = y if y.dtype == bool else y == 1
        return [bool(y[:, k].any() and not y[:, k].all()) for k in range(y.shape[1])]
    rows = _as_rows(labels, "labels")
    return [len({_check_label(r[k], i, k) for i, r in enumerate(rows)}) == 2 for k in range(len(rows[0]))]


def multilabel_auc(
    labels: Any,
    scores: Any,
    class_names: Optional[Sequence[str]] = None,
    *,
    use_numpy: Optional[bool] = None,
) -> AucResult:
    """Per-class, macro and micro ROC AUC of multi-label predictions.

    labels: [samples x classes] of 0/1 (lists, numpy arrays or torch tensors); scores: the same
    shape, higher meaning more likely positive (logits or probabilities; ±inf is ordered; a NaN
    score, a diverged model, makes every AUC NaN and ``notes()`` say ``diverged``, never an exception). class_names default to ``class_0``, ``class_1``, …. ``macro`` is the mean over the
    classes with both label values (None when there are none), ``micro`` the AUC of all pairs
    pooled (as roc_auc_score(average='micro')).
    """
    if use_numpy is None:
        use_numpy = _np is not None
    if use_numpy and _np is None:
        raise RuntimeError("multilabel_auc: use_numpy=True but numpy is not installed")
    nan_at: Optional[str] = None
    try:
        per, micro, n_classes = _with_numpy(labels, scores) if use_numpy else _pure_python(labels, scores, None)
    except _NanScore as nan:
        # A diverged model: NaN AUCs to report (sweepd sees the divergence), not a crashed script;
        # a class with one label value still has no AUC at all.
        nan_at, n_classes = str(nan), nan.n_classes
        per = [math.nan if both else None for both in _both_label_values(labels, use_numpy)]
        micro = math.nan
    names = list(class_names) if class_names is not None else [f"class_{k}" for k in range(n_classes)]
    if len(names) != n_classes:
        raise ValueError(f"multilabel_auc: {len(names)} class_names for {n_classes} classes")
    if len(set(names)) != len(names):
        raise ValueError("multilabel_auc: class_names must be unique")
    defined = [a for a in per if a is not None]
    macro = sum(defined) / len(defined) if defined else None
    return AucResult(
        macro=macro,
        micro=micro,
        per_class=dict(zip(names, per)),
        undefined_classes=[n for n, a in zip(names, per) if a is None],
        nan_scores=nan_at,
    )

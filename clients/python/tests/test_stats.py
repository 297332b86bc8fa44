"""Layer statistics: the same numbers as sweepd's TypeScript core (weights.ts) for the same arrays,
and hand-computed values, through the numpy functions and the PyTorch path."""

import json
import math
import os

import numpy as np
import pytest
import torch

from sweepd import stats
from sweepd.torch import kernel_summary

FIXTURE = os.environ.get("SWEEPD_WEIGHTS_FIXTURE") or os.path.join(os.path.dirname(__file__), "fixtures", "weights-fixture.json")


def f32(values):
    return np.array([float(v) for v in values], dtype=np.float32)


def load():
    with open(FIXTURE) as f:
        return json.load(f)


def same(a, b, rel=1e-12):
    b = float(b)
    if math.isnan(b):
        return math.isnan(a)
    if math.isinf(b):
        return a == b
    return abs(a - b) <= rel * max(1.0, abs(b))


CASES = load()["weightCases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_kernel_statistics_match_typescript(case):
    initial, previous, current = f32(case["initial"]), f32(case["previous"]), f32(case["current"])
    assert same(stats.relative_movement(current, initial), case["kernelMovement"])
    assert same(stats.update_ratio(current, previous), case["updateRatio"])
    assert same(stats.absolute_movement(current, initial), case["biasMovement"])
    s = stats.summarize(current)
    assert same(s["mean"], case["mean"]) and same(s["std"], case["std"])
    assert s["fractionNegative"] == float(case["fractionNegative"])
    assert len(s["quantiles"]) == 7
    for got, want in zip(s["quantiles"], case["quantiles"]):
        assert same(got, want, rel=0), (got, want)  # order statistics and numpy's lerp: exact
    t = kernel_summary(torch.from_numpy(current))
    assert same(t["mean"], case["mean"]) and same(t["std"], case["std"])
    assert t["fractionNegative"] == s["fractionNegative"]
    for got, want in zip(t["quantiles"], case["quantiles"]):
        assert same(got, want, rel=0)


ACTS = load()["activationCases"]


@pytest.mark.parametrize("case", ACTS, ids=[c["name"] for c in ACTS])
def test_activation_sparsity_matches_typescript(case):
    values = f32(case["values"])
    got = stats.activation_sparsity(values, case["units"])
    assert got == {"sparsity": case["sparsity"], "deadFraction": case["deadFraction"]}
    # the same values as NCHW-style [rows, units] with the units on axis 1
    rows = values.reshape(-1, case["units"])
    assert stats.activation_sparsity(rows, axis=1) == got


def test_quantiles_are_numpys_linear_quantiles():
    rng = np.random.default_rng(0)
    for n in [1, 2, 3, 7, 20, 1001]:
        v = rng.normal(size=n).astype(np.float32)
        want = np.quantile(v.astype(np.float64), stats.QUANTILE_LEVELS)
        assert stats.summarize(v)["quantiles"] == pytest.approx(list(want), abs=0, rel=1e-15)


def test_hand_computed_kernel():
    initial = np.array([3.0, 4.0], dtype=np.float32)  # norm 5
    previous = np.array([3.0, 4.0], dtype=np.float32)
    current = np.array([3.0, 5.0], dtype=np.float32)
    k = stats.kernel_stats(current, initial, previous)
    assert k["kernelMovement"] == pytest.approx(1 / 5)
    assert k["updateRatio"] == pytest.approx(1 / 5)
    assert k["mean"] == 4.0 and k["std"] == 1.0 and k["fractionNegative"] == 0.0
    assert k["quantiles"] == pytest.approx([3, 3.1, 3.5, 4, 4.5, 4.9, 5])
    assert stats.relative_movement(np.zeros(3), np.zeros(3)) == 0.0
    assert stats.relative_movement(np.ones(3), np.zeros(3)) == math.inf


def test_hand_computed_sparsity_nchw():
    # batch 2, channels 3, 2x2: channel 1 is zero everywhere (dead), channel 2 zero in one sample only
    a = np.ones((2, 3, 2, 2), dtype=np.float32)
    a[:, 1] = 0
    a[0, 2] = 0
    got = stats.activation_sparsity(a, axis=1)
    assert got == {"sparsity": 12 / 24, "deadFraction": 1 / 3}

"""multilabel_auc against scikit-learn's roc_auc_score: random scores, ties, degenerate classes, float32."""

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from sweepd import multilabel_auc

BOTH = [True, False]  # numpy path and pure-Python path


def sklearn_reference(y, s):
    per = []
    for k in range(y.shape[1]):
        per.append(roc_auc_score(y[:, k], s[:, k]) if 0 < y[:, k].sum() < y.shape[0] else None)
    defined = [a for a in per if a is not None]
    micro = roc_auc_score(y.ravel(), s.ravel()) if 0 < y.sum() < y.size else None
    return per, (float(np.mean(defined)) if defined else None), micro


def check(y, s, use_numpy, names=None):
    got = multilabel_auc(y if use_numpy else y.tolist(), s if use_numpy else s.tolist(), names, use_numpy=use_numpy)
    per, macro, micro = sklearn_reference(y, s)
    for a, b in zip(got.per_class.values(), per):
        assert (a is None) == (b is None)
        if a is not None:
            assert abs(a - b) <= 1e-12
    assert (got.macro is None) == (macro is None) and (macro is None or abs(got.macro - macro) <= 1e-12)
    assert (got.micro is None) == (micro is None) and (micro is None or abs(got.micro - micro) <= 1e-12)
    return got


@pytest.mark.parametrize("use_numpy", BOTH)
def test_random_scores(use_numpy):
    rng = np.random.default_rng(1)
    for n, c in [(50, 3), (400, 7), (1000, 19)]:
        y = (rng.random((n, c)) < rng.uniform(0.05, 0.6, c)).astype(np.uint8)
        s = rng.normal(size=(n, c)) + 0.8 * y
        check(y, s, use_numpy)


@pytest.mark.parametrize("use_numpy", BOTH)
def test_heavy_ties(use_numpy):
    rng = np.random.default_rng(2)
    y = (rng.random((600, 5)) < 0.3).astype(np.uint8)
    s = np.round(rng.random((600, 5)) + 0.3 * y, 1)  # about 14 distinct values per class
    check(y, s, use_numpy)
    s_all_tied = np.zeros((600, 5))
    got = check(y, s_all_tied, use_numpy)
    assert got.macro == 0.5 and got.micro == 0.5


@pytest.mark.parametrize("use_numpy", BOTH)
def test_degenerate_classes_are_listed_not_raised(use_numpy):
    rng = np.random.default_rng(3)
    y = (rng.random((200, 4)) < 0.4).astype(np.uint8)
    y[:, 1] = 0  # never present (as a class absent from validation)
    y[:, 3] = 1  # always present
    s = rng.random((200, 4)).astype(np.float32)
    got = check(y, s, use_numpy, names=["cat", "obj_1", "dog", "obj_13"])
    assert got.undefined_classes == ["obj_1", "obj_13"]
    assert got.per_class["obj_1"] is None and got.per_class["obj_13"] is None
    assert got.macro == pytest.approx((got.per_class["cat"] + got.per_class["dog"]) / 2, abs=1e-15)
    m = got.metrics()
    assert set(m) == {"val_auc_macro", "val_auc_micro", "val_auc[cat]", "val_auc[dog]"}
    assert got.notes() == {"auc_undefined_classes": ["obj_1", "obj_13"]}
    assert got["macro"] == got.macro
    nothing = multilabel_auc(np.zeros((5, 2)), np.ones((5, 2)), use_numpy=use_numpy)
    assert nothing.macro is None and nothing.micro is None and nothing.undefined_classes == ["class_0", "class_1"]


@pytest.mark.parametrize("use_numpy", BOTH)
def test_float32_scores_tie_as_float32(use_numpy):
    rng = np.random.default_rng(4)
    y = (rng.random((3000, 3)) < 0.2).astype(np.uint8)
    # sigmoids of large logits saturate to exactly 1.0 in float32: many ties that float64 would not have
    logits = rng.normal(scale=12, size=(3000, 3)) + 4 * y
    s = (1 / (1 + np.exp(-logits))).astype(np.float32)
    assert len(np.unique(s[:, 0])) < 3000
    check(y, s, use_numpy)


@pytest.mark.parametrize("use_numpy", BOTH)
def test_infinite_scores_are_ordered(use_numpy):
    y = np.array([[1], [0], [1], [0]], dtype=np.uint8)
    s = np.array([[np.inf], [-np.inf], [1.0], [np.inf]])
    got = multilabel_auc(y, s, use_numpy=use_numpy)
    # positive inf ties the negative inf-score... (+inf vs +inf): pairs (inf,-inf)=1, (inf,inf)=.5, (1,-inf)=1, (1,inf)=0
    assert got.macro == pytest.approx(2.5 / 4)


@pytest.mark.parametrize("use_numpy", BOTH)
def test_bad_input_is_named(use_numpy):
    with pytest.raises(ValueError, match=r"labels\[1\]\[0\] is 2"):
        multilabel_auc(np.array([[0], [2]]), np.array([[0.1], [0.2]]), use_numpy=use_numpy)
    with pytest.raises(ValueError, match="rows|shape"):
        multilabel_auc(np.zeros((3, 2)), np.zeros((4, 2)), use_numpy=use_numpy)
    with pytest.raises(ValueError, match="3 class_names for 2 classes"):
        multilabel_auc(np.zeros((3, 2)), np.zeros((3, 2)), ["a", "b", "c"], use_numpy=use_numpy)


def test_torch_tensors_are_accepted():
    import torch

    y = torch.tensor([[1, 0], [0, 1], [1, 1], [0, 0]])
    s = torch.tensor([[0.9, 0.2], [0.1, 0.8], [0.7, 0.3], [0.2, 0.1]], requires_grad=True)
    got = multilabel_auc(y, s)
    ref = sklearn_reference(y.numpy(), s.detach().numpy())
    assert got.per_class["class_0"] == ref[0][0] and got.per_class["class_1"] == ref[0][1]
    assert multilabel_auc(y, s, use_numpy=False).to_dict() == got.to_dict()


def test_larger_input_matches_sklearn():
    rng = np.random.default_rng(5)
    y = (rng.random((20_000, 19)) < rng.uniform(0.01, 0.3, 19)).astype(np.uint8)
    s = (rng.random((20_000, 19)) + 0.2 * y).astype(np.float32)
    check(y, s, True)


@pytest.mark.parametrize("use_numpy", BOTH)
def test_nan_scores_still_name_the_classes_with_no_auc(use_numpy):
    labels = np.array([[0, 1, 1], [1, 1, 1], [0, 1, 0]])  # b has one label value
    got = multilabel_auc(labels, np.array([[0.1, np.nan, 0.2], [0.2, 0.3, 0.4], [0.5, 0.6, 0.7]]), ["a", "b", "c"], use_numpy=use_numpy)
    assert got.undefined_classes == ["b"]
    assert got.per_class["b"] is None and math.isnan(got.per_class["a"]) and math.isnan(got.per_class["c"])
    assert math.isnan(got.macro)
    assert got.notes()["auc_undefined_classes"] == ["b"] and got.notes()["diverged"] is True
    assert set(got.metrics()) == {"val_auc_macro", "val_auc_micro", "val_auc[a]", "val_auc[c]"}


@pytest.mark.parametrize("use_numpy", BOTH)
def test_nan_scores_give_nan_aucs_and_a_diverged_note_not_an_exception(use_numpy):
    got = multilabel_auc(np.array([[0, 1], [1, 0]]), np.array([[0.1, np.nan], [0.2, 0.3]]), ["a", "b"], use_numpy=use_numpy)
    assert math.isnan(got.macro) and math.isnan(got.micro)
    assert all(math.isnan(v) for v in got.per_class.values())
    metrics = got.metrics()
    assert set(metrics) == {"val_auc_macro", "val_auc_micro", "val_auc[a]", "val_auc[b]"}
    assert all(math.isnan(v) for v in metrics.values())
    assert got.notes() == {"auc_undefined_classes": [], "diverged": True, "nan_scores": "scores[0][1] is NaN"}

"""sweepd.torch.LayerStats on a small real model: movements after known weight changes, frozen
layers, activation sparsity and dead units from forward hooks, eval mode and no gradients."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from sweepd import format_report, stats
from sweepd.torch import LayerStats


def model():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Conv2d(4, 6, 3, padding=1, bias=False),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(6, 2),
    )


def by_name(entries):
    return {e["layer"]: e for e in entries}


def test_movements_follow_the_weights():
    m = model()
    w0 = m[0].weight.detach().numpy().copy()
    tracker = LayerStats(m)
    first = by_name(tracker.collect())
    assert set(first) == {"0", "3", "8"}
    assert first["0"]["kernelMovement"] == 0 and first["0"]["updateRatio"] == 0 and first["0"]["biasMovement"] == 0
    assert "biasMovement" not in first["3"]
    with torch.no_grad():
        m[0].weight.add_(0.01)
        m[0].bias.add_(0.5)
    second = by_name(tracker.collect())
    w1 = m[0].weight.detach().numpy().copy()
    assert second["0"]["kernelMovement"] == pytest.approx(np.linalg.norm(w1.astype(np.float64) - w0.astype(np.float64)) / np.linalg.norm(w0.astype(np.float64)), rel=1e-12)
    assert second["0"]["updateRatio"] == pytest.approx(second["0"]["kernelMovement"], rel=1e-12)
    assert second["0"]["biasMovement"] == pytest.approx(0.5 * math.sqrt(4), rel=1e-6)
    want = stats.summarize(w1)
    for key in ("mean", "std", "fractionNegative"):
        assert second["0"][key] == pytest.approx(want[key], rel=1e-12)
    assert second["0"]["quantiles"] == want["quantiles"]
    with torch.no_grad():
        m[0].weight.add_(0.01)
    third = by_name(tracker.collect())
    w2 = m[0].weight.detach().numpy()
    assert third["0"]["updateRatio"] == pytest.approx(stats.update_ratio(w2, w1), rel=1e-12)
    assert third["8"]["kernelMovement"] == 0 and third["8"]["trainable"] is True


def test_frozen_layers_are_marked_and_cached():
    m = model()
    m[0].weight.requires_grad_(False)
    m[0].bias.requires_grad_(False)
    tracker = LayerStats(m)
    a = by_name(tracker.collect())["0"]
    b = by_name(tracker.collect())["0"]
    assert a["trainable"] is False and a == b
    with torch.no_grad():
        m[0].weight.mul_(2)  # modified in place: the version counter moves and statistics are recomputed
    c = by_name(tracker.collect())["0"]
    assert c["kernelMovement"] == pytest.approx(1.0, rel=1e-12) and c["mean"] == pytest.approx(2 * a["mean"], rel=1e-6)


def test_a_frozen_layer_changed_through_data_is_measured_again():
    # An EMA teacher: requires_grad off, updated through .data, which leaves the version counter.
    m = model()
    m[0].weight.requires_grad_(False)
    tracker = LayerStats(m)
    start = m[0].weight.detach().clone()
    a = by_name(tracker.collect())["0"]
    assert a["kernelMovement"] == 0
    m[0].weight.data = m[0].weight.data * 0.5 + torch.ones_like(m[0].weight) * 0.5
    b = by_name(tracker.collect())["0"]
    expected = float(torch.linalg.vector_norm((m[0].weight.detach() - start).double()) / torch.linalg.vector_norm(start.double()))
    assert b["kernelMovement"] == pytest.approx(expected, rel=1e-6) and b["updateRatio"] > 0
    m[0].weight.data.mul_(0.5)
    c = by_name(tracker.collect())["0"]
    expected = float(torch.linalg.vector_norm((m[0].weight.detach() - start).double()) / torch.linalg.vector_norm(start.double()))
    assert c["kernelMovement"] == pytest.approx(expected, rel=1e-6)
    # Unchanged since: the same figures, and no step.
    d = by_name(tracker.collect())["0"]
    assert d["kernelMovement"] == c["kernelMovement"] and d["updateRatio"] == 0.0


def test_lazy_modules_before_their_first_forward_pass_are_named():
    m = nn.Sequential(nn.LazyLinear(4), nn.ReLU())
    with pytest.raises(ValueError, match=r"LayerStats: 0 still have no weights .* make LayerStats after one forward pass"):
        LayerStats(m)
    m(torch.rand(2, 3))
    assert [e["layer"] for e in LayerStats(m).collect()] == ["0"]


def test_probe_sparsity_and_dead_units_in_eval_mode():
    m = model()
    with torch.no_grad():
        m[3].weight[2].fill_(-1.0)  # channel 2 of the second conv sees positive inputs: always negative, dead after ReLU
    probe = torch.rand(5, 3, 8, 8)
    m.train()
    tracker = LayerStats(m, probe=probe)
    entries = by_name(tracker.collect())
    assert m.training and all(mod.training for mod in m.modules())  # mode restored
    assert m[1].num_batches_tracked.item() == 0  # BatchNorm ran in eval mode: running stats untouched
    m.eval()
    with torch.no_grad():
        h1 = m[2](m[1](m[0](probe)))
        h2 = m[4](m[3](h1))
    for key, h in (("2", h1), ("4", h2)):
        want = stats.activation_sparsity(h.numpy(), axis=1)
        assert entries[key]["sparsity"] == want["sparsity"] and entries[key]["deadFraction"] == want["deadFraction"]
        assert entries[key]["trainable"] is False
    assert entries["4"]["deadFraction"] >= 1 / 6
    # no gradients were recorded
    assert all(p.grad is None for p in m.parameters())
    # the entries are valid protocol layers
    format_report(1, {"x": 1.0}, layers=list(entries.values()))


def test_reused_relu_gets_one_entry_per_call():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(2, 2, 1)
            self.conv2 = nn.Conv2d(2, 2, 1)
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x):
            return self.relu(self.conv2(self.relu(self.conv1(x))))

    b = Block()
    names = [e["layer"] for e in LayerStats(b, probe=torch.randn(2, 2, 4, 4)).collect()]
    assert names == ["conv1", "conv2", "relu", "relu#2"]


def test_nan_weights_give_nan_statistics():
    m = nn.Linear(3, 2)
    tracker = LayerStats(m)
    with torch.no_grad():
        m.weight[0, 0] = float("nan")
    e = tracker.collect()[0]
    assert math.isnan(e["kernelMovement"]) and math.isnan(e["mean"]) and all(math.isnan(q) for q in e["quantiles"])
    line = format_report(1, {"loss": float("nan")}, layers=[e])
    assert '"kernelMovement":NaN' in line


def test_watch_measures_the_scripts_own_forward_and_keeps_earlier_entries():
    m = model()
    probe = torch.rand(5, 3, 8, 8)
    with_probe = by_name(LayerStats(m, probe=probe).collect())
    tracker = LayerStats(m)
    assert [e["layer"] for e in tracker.collect()] == ["0", "3", "8"]  # nothing measured yet
    m.eval()
    with torch.no_grad(), tracker.watch():
        m(probe)  # the script's validation batch
    watched = by_name(tracker.collect())
    for key in ("2", "4"):
        assert watched[key] == with_probe[key]
    # a pass reaching only the later layers (features of a frozen prefix cached): the first ReLU's entry stays
    with torch.no_grad():
        h = m[2](m[1](m[0](probe)))
        m[3].weight.mul_(-1)
        with tracker.watch():
            m[5:](m[4](m[3](h)))
    again = by_name(tracker.collect())
    assert again["2"] == watched["2"]
    assert again["4"]["sparsity"] == stats.activation_sparsity(m[4](m[3](h)).detach().numpy(), axis=1)["sparsity"]
    assert tracker.last_seconds > 0


def test_torch_path_matches_the_numpy_path():
    # float64 weights (as any non-CPU or non-float32 weights) take the torch path; float32 CPU ones numpy
    import copy

    m32 = model()
    m64 = copy.deepcopy(m32).double()
    probe = torch.rand(4, 3, 8, 8)
    t32, t64 = LayerStats(m32), LayerStats(m64)
    for m in (m32, m64):
        with torch.no_grad():
            m[0].weight.mul_(1.5)
            m[8].bias.add_(0.25)
            m[3].weight[0].zero_()
    e32, e64 = by_name(t32.collect()), by_name(t64.collect())
    for name in ("0", "3", "8"):
        for key, value in e32[name].items():
            if isinstance(value, float):
                assert e64[name][key] == pytest.approx(value, rel=1e-6, abs=1e-9), (name, key)
            elif isinstance(value, list):
                assert e64[name][key] == pytest.approx(value, rel=1e-6, abs=1e-9), (name, key)
            else:
                assert e64[name][key] == value
    assert probe.shape[0] == 4


def test_activation_counts_agree_on_both_paths():
    # float32/float64 CPU activations are counted by numpy, other dtypes (and devices) by torch:
    # the same nonzeros per channel, NaN counted as nonzero (broken, not dead), for strided layouts too
    from sweepd.torch import _nonzero_per_channel

    a = torch.relu(torch.randn(3, 4, 5, 5))
    a[:, 1] = 0.0  # a dead channel
    a[0, 2, 0, 0] = float("nan")
    a[:, 3] = 0.0
    a[1, 3, 2, 2] = float("nan")  # zero but for one NaN: not dead
    want = [int((a[:, c] != 0).sum()) for c in range(4)]
    assert want[1] == 0 and want[3] == 1
    for t in (a, a.double(), a.to(memory_format=torch.channels_last), a.half()):
        assert [int(n) for n in _nonzero_per_channel(t)] == want, t.dtype
    flat = a.flatten(2).mean(2).nan_to_num(1.0)  # a 2-D activation: units on axis 1
    flat[:, 1] = 0.0
    assert [int(n) for n in _nonzero_per_channel(flat)] == [3, 0, 3, 1]  # channel 3: only the NaN row


def test_start_notes_hold_the_units_measured_before_the_first_collect():
    # What is dead after epoch 1 may have died in it: the start is measured before any step.
    m = model()
    probe = torch.rand(5, 3, 8, 8)
    m.eval()
    with torch.no_grad():
        before = stats.activation_sparsity(m[4](m[3](m[2](m[1](m[0](probe))))).numpy(), axis=1)
    tracker = LayerStats(m, probe=probe)  # measured now, before training
    with torch.no_grad():
        m[3].weight.fill_(-1.0)  # "training" kills every unit of the second ReLU
    entries = by_name(tracker.collect())
    assert entries["4"]["deadFraction"] == 1.0
    assert tracker.start_notes() == {
        "activations_at_start": {
            "2": pytest.approx({"sparsity": tracker.activations_at_start["2"]["sparsity"], "deadFraction": 0.0}),
            "4": pytest.approx({"sparsity": before["sparsity"], "deadFraction": before["deadFraction"]}),
        }
    }
    tracker.collect()
    assert tracker.start_notes()["activations_at_start"]["4"]["deadFraction"] == before["deadFraction"]
    # Without a probe or a measure before it, there is no start to report.
    assert LayerStats(model()).start_notes() == {}


def _train_one_step(m, lr=0.5):
    """One Adam step at a rate that changes the ReLUs' sparsity and dead units a lot."""
    torch.manual_seed(1)
    x, y = torch.rand(16, 3, 8, 8), torch.randint(0, 2, (16,))
    optimizer = torch.optim.Adam(m.parameters(), lr=lr)
    m.train()
    optimizer.zero_grad()
    nn.functional.cross_entropy(m(x), y).backward()
    optimizer.step()
    m.eval()


def _relus_now(m, probe):
    m.eval()
    with torch.no_grad():
        h1 = m[2](m[1](m[0](probe)))
        h2 = m[4](m[3](h1))
    return {k: stats.activation_sparsity(h.numpy(), axis=1) for k, h in (("2", h1), ("4", h2))}


@pytest.mark.parametrize("order", ["collect_first", "start_notes_first"])
@pytest.mark.parametrize("how", ["measure_then_watch", "probe"])
def test_start_notes_report_the_units_before_training_not_epoch_1s(how, order):
    # finetune.py's way (measure() before training, then watch() around each epoch's validation
    # batch) and the probe's: the start stays what was measured before the first step, whether
    # start_notes() is asked before or after the first collect().
    m = model()
    probe = torch.rand(8, 3, 8, 8)
    before = _relus_now(m, probe)
    if how == "probe":
        tracker = LayerStats(m, probe=probe)
    else:
        tracker = LayerStats(m)
        tracker.measure(probe)
    _train_one_step(m)
    after = _relus_now(m, probe)
    assert after["4"] != before["4"]  # the step changed the statistics
    if how == "measure_then_watch":
        with torch.no_grad(), tracker.watch():
            m(probe)  # epoch 1's validation batch
    want = {"activations_at_start": {k: {"sparsity": v["sparsity"], "deadFraction": v["deadFraction"]} for k, v in before.items()}}
    if order == "start_notes_first":
        assert tracker.start_notes() == want
    epoch_1 = by_name(tracker.collect())
    for key in ("2", "4"):
        assert {k: epoch_1[key][k] for k in ("sparsity", "deadFraction")} == after[key]
    assert tracker.start_notes() == want
    _train_one_step(m)
    tracker.collect()
    assert tracker.start_notes() == want


def test_no_start_notes_without_a_measurement_before_training():
    # Only watch() after the first step: what it measures is epoch 1's, not the start.
    m = model()
    probe = torch.rand(8, 3, 8, 8)
    tracker = LayerStats(m)
    _train_one_step(m)
    with torch.no_grad(), tracker.watch():
        m(probe)
    assert by_name(tracker.collect())["4"]["sparsity"] == _relus_now(m, probe)["4"]["sparsity"]
    assert tracker.start_notes() == {}
    # a watch() before any step is a start, as measure() is
    m = model()
    tracker = LayerStats(m)
    m.eval()
    with torch.no_grad(), tracker.watch():
        m(probe)
    _train_one_step(m)
    assert tracker.start_notes()["activations_at_start"]["4"] == _relus_now(model(), probe)["4"]

"""finetune.py for real: TF1 RMSProp against a hand-computed step, TF-slim's decay schedule, and
runs under a fake sweepd environment (params, metrics, control file, shared cache dir) on the
CPU — the first reports 2 epochs and fills the feature cache, the second reuses it; head-only
training; a stop request seen after the first step."""

import json
import math
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from optim import RMSpropTF1, build_optimizer, learning_rate_at  # noqa: E402


def test_rmsprop_tf1_matches_a_hand_computed_step():
    w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    g = [0.5, 1.0]
    lr, decay, momentum, eps = 0.01, 0.9, 0.5, 0.1
    opt = RMSpropTF1([w], lr=lr, decay=decay, momentum=momentum, eps=eps)
    ms, mom, want = [1.0, 1.0], [0.0, 0.0], [1.0, -2.0]
    for _ in range(3):
        opt.zero_grad()
        (w * torch.tensor(g, dtype=torch.float64)).sum().backward()
        opt.step()
        for i in range(2):
            ms[i] = decay * ms[i] + (1 - decay) * g[i] ** 2
            mom[i] = momentum * mom[i] + lr * g[i] / math.sqrt(ms[i] + eps)
            want[i] -= mom[i]
        assert w.detach().tolist() == pytest.approx(want, rel=1e-14)
    # the first step by hand: ms = 0.9 + 0.1·0.25 = 0.925; the step is lr·g/sqrt(0.925 + eps)
    first = 0.01 * 0.5 / math.sqrt(0.925 + 0.1)
    assert first == pytest.approx(0.004938647983247948, rel=1e-12)


def test_rmsprop_tf1_differs_from_torch_rmsprop_early():
    flags = SimpleNamespace(learning_rate=0.1, rmsprop_decay=0.9, rmsprop_momentum=0.0, opt_epsilon=1e-10, rmsprop_tf1=True, momentum=0.9, adam_beta1=0.9, adam_beta2=0.999)
    a = torch.nn.Parameter(torch.tensor([1.0]))
    b = torch.nn.Parameter(torch.tensor([1.0]))
    tf1 = build_optimizer("rmsprop", [{"params": [a]}], flags)
    flags.rmsprop_tf1 = False
    plain = build_optimizer("rmsprop", [{"params": [b]}], flags)
    assert isinstance(tf1, RMSpropTF1) and not isinstance(plain, RMSpropTF1)
    for p, o in ((a, tf1), (b, plain)):
        p.grad = torch.tensor([0.01])
        o.step()
    # torch's mean square starts at 0: its first step is lr/sqrt(0.1) ≈ 0.316; TF1's is ≈ lr·0.01/sqrt(0.9)
    assert 1 - b.item() == pytest.approx(0.1 / math.sqrt(0.1), rel=1e-5)
    assert 1 - a.item() == pytest.approx(0.1 * 0.01 / math.sqrt(0.9 + 0.1 * 1e-4), rel=1e-4)  # float32 weights


def test_exponential_decay_is_tf_slims_staircase():
    flags = SimpleNamespace(learning_rate=0.01, learning_rate_decay_type="exponential", learning_rate_decay_factor=0.94, num_epochs_per_decay=2, end_learning_rate=1e-4)
    assert learning_rate_at(0, 10, flags) == 0.01
    assert learning_rate_at(19, 10, flags) == 0.01
    assert learning_rate_at(20, 10, flags) == pytest.approx(0.0094)
    assert learning_rate_at(45, 10, flags) == pytest.approx(0.01 * 0.94**2)
    flags.learning_rate_decay_type = "polynomial"
    assert learning_rate_at(10, 10, flags) == pytest.approx((0.01 - 1e-4) * 0.5 + 1e-4)


def write_disk_dataset(directory, n_train=96, n_val=48, size=24, classes=("cat", "dog", "car", "tree")):
    rng = np.random.default_rng(0)
    os.makedirs(directory, exist_ok=True)
    manifest = {"name": "tiny", "classes": list(classes), "image": {"height": size, "width": size, "channels": 3},
                "splits": {"train": {"images": "train-images.u8", "labels": "train-labels.u8"}, "val": {"images": "val-images.f32", "labels": "val-labels.u8"}}}
    for which, n, ext in (("train", n_train, "u8"), ("val", n_val, "f32")):
        labels = (rng.random((n, len(classes))) < 0.35).astype(np.uint8)
        if which == "val":
            labels[:, 3] = 0  # 'tree' never in validation: undefined AUC
        images = rng.random((n, size, size, 3)).astype(np.float32) * 0.5
        images[..., 0] += 0.5 * labels[:, :1, None]
        images[..., 1] += 0.5 * labels[:, 1:2, None]
        data = (images * 255).astype(np.uint8) if ext == "u8" else images.astype("<f4")
        data.tofile(os.path.join(directory, f"{which}-images.{ext}"))
        labels.tofile(os.path.join(directory, f"{which}-labels.u8"))
    with open(os.path.join(directory, "dataset.json"), "w") as f:
        json.dump(manifest, f)


def run_trial(tmp_path, name, params):
    trial = tmp_path / name
    trial.mkdir()
    (trial / "params.json").write_text(json.dumps(params))
    env = dict(os.environ, SWEEPD_TRIAL_ID=name, SWEEPD_TRIAL_DIR=str(trial), SWEEPD_PARAMS_FILE=str(trial / "params.json"),
               SWEEPD_METRICS_FILE=str(trial / "metrics.jsonl"), SWEEPD_CONTROL_FILE=str(trial / "control.json"),
               SWEEPD_CACHE_DIR=str(tmp_path / "cache"), SWEEPD_MAX_EPOCHS="2", SWEEPD_OBJECTIVE="val_auc_macro", PYTHONUNBUFFERED="1")
    flags = [f"--{k}={v}" if not isinstance(v, bool) else (f"--{k}" if v else f"--no{k}") for k, v in sorted(params.items())]
    proc = subprocess.run([sys.executable, os.path.join(HERE, "finetune.py"), *flags], cwd=trial, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in (trial / "metrics.jsonl").read_text().splitlines()]
    return lines, proc.stderr


def test_two_trials_under_a_fake_sweepd(tmp_path):
    data_dir = tmp_path / "data"
    write_disk_dataset(str(data_dir))
    params = {"data_dir": str(data_dir), "learning_rate": 0.02, "optimizer": "rmsprop", "rmsprop_tf1": True, "opt_epsilon": 1.0,
              "frozen_layers": 2, "batch_size": 16, "threads": 1, "probe_size": 16}
    lines, stderr = run_trial(tmp_path, "t1", params)
    assert [r["epoch"] for r in lines] == [1, 2], stderr
    last = lines[-1]
    assert last["sweepd"] == 1
    m = last["metrics"]
    for key in ("train_loss", "val_loss", "learning_rate", "val_auc_macro", "val_auc_micro", "val_auc[cat]", "val_auc[dog]", "val_auc[car]", "epoch_seconds"):
        assert key in m and math.isfinite(m[key]), key
    assert "val_auc[tree]" not in m and last["notes"]["auc_undefined_classes"] == ["tree"]
    assert 0 <= m["val_auc_macro"] <= 1
    notes = lines[0]["notes"]
    assert notes["device"] == "cpu" and notes["frozen_blocks"] == 2 and notes["feature_cache"] == "computed" and notes["optimizer"] == "rmsprop_tf1"
    layers = {e["layer"]: e for e in last["layers"]}
    # frozen blocks (stem, block1) do not move; the trained blocks and the classifier do
    assert layers["features.stem.0"]["trainable"] is False and layers["features.stem.0"]["kernelMovement"] == 0
    assert layers["features.block3.conv1"]["trainable"] is True and layers["features.block3.conv1"]["kernelMovement"] > 0
    assert layers["fc"]["updateRatio"] > 0 and layers["fc"]["biasMovement"] > 0 and len(layers["fc"]["quantiles"]) == 7
    relus = [e for e in last["layers"] if "sparsity" in e]
    assert relus and all(0 <= e["sparsity"] <= 1 and 0 <= e["deadFraction"] <= 1 for e in relus)
    assert list((tmp_path / "cache" / "finetune-features").iterdir())

    # Same model, weights, depth and data: the second trial reuses the features.
    lines2, stderr2 = run_trial(tmp_path, "t2", {**params, "learning_rate": 0.005, "optimizer": "momentum", "num_epochs": 1})
    assert [r["epoch"] for r in lines2] == [1], stderr2
    assert lines2[0]["notes"]["feature_cache"] == "hit" and "feature cache: reused" in stderr2


def test_bad_frozen_layers_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, os.path.join(HERE, "finetune.py"), "--frozen_layers=9", "--train_size=8", "--val_size=8", "--threads=1"],
                          capture_output=True, text=True, timeout=600, env=dict(os.environ, SWEEPD_METRICS_FILE=str(tmp_path / "m.jsonl")))
    assert proc.returncode != 0
    assert "--frozen_layers=9: tiny_resnet has 5 blocks, so it must be between 0 and 5" in proc.stderr


def test_auto_device_refuses_the_cpu_when_a_gpu_was_given(monkeypatch):
    import finetune

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    with pytest.raises(SystemExit, match=r"given GPU\(s\) CUDA_VISIBLE_DEVICES=0, but CUDA is not available"):
        finetune.pick_device("auto")
    assert finetune.pick_device("cpu") == torch.device("cpu")
    for none in ("", "-1"):
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", none)
        assert finetune.pick_device("auto") == torch.device("cpu")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert finetune.pick_device("auto") == torch.device("cpu")


@pytest.fixture
def in_process_trial(tmp_path, monkeypatch):
    import finetune  # noqa: F401  (finds the sweepd client in this checkout when it is not installed)
    import sweepd.protocol

    monkeypatch.setattr(sweepd.protocol, "_stop_reason", None)
    monkeypatch.setenv("SWEEPD_METRICS_FILE", str(tmp_path / "metrics.jsonl"))
    monkeypatch.setenv("SWEEPD_CONTROL_FILE", str(tmp_path / "control.json"))
    monkeypatch.setenv("SWEEPD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SWEEPD_MAX_EPOCHS", raising=False)
    return tmp_path


def test_head_only_on_cached_pooled_features(in_process_trial, capsys):
    import finetune

    common = ["--train_size=64", "--val_size=32", "--batch_size=16", "--frozen_layers=5", "--num_epochs=2", "--probe_size=8", "--threads=1", "--optimizer=adam", "--opt_epsilon=1e-8"]
    assert finetune.main(common) == 0
    lines = [json.loads(line) for line in (in_process_trial / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2]
    assert lines[0]["notes"]["feature_cache"] == "computed" and lines[0]["notes"]["frozen_blocks"] == 5
    layers = {e["layer"]: e for e in lines[-1]["layers"]}
    assert layers["fc"]["trainable"] is True and layers["fc"]["kernelMovement"] > 0
    assert all(not e["trainable"] for name, e in layers.items() if name.startswith("features."))
    # every ReLU measured once through the whole model at the start; the frozen ones keep those numbers
    assert "features.block4.relu2" in layers and "sparsity" in layers["features.stem.2"]


def test_stop_request_is_seen_mid_epoch(in_process_trial, capsys):
    import finetune

    (in_process_trial / "control.json").write_text(json.dumps({"stop": True, "reason": "user"}))
    checkpoint = in_process_trial / "final.pt"
    assert finetune.main(["--train_size=64", "--val_size=16", "--batch_size=1", "--frozen_layers=5", "--num_epochs=3", "--threads=1", f"--save_checkpoint={checkpoint}"]) == 0
    assert not (in_process_trial / "metrics.jsonl").exists()  # stopped after the first step, before any report
    err = capsys.readouterr().err
    assert "sweepd asked to stop during epoch 1: user" in err
    # a trial stopped mid-epoch still leaves the weights it asked to keep
    assert checkpoint.exists() and f"saved the model's weights to {checkpoint}" in err


def test_checkpoint_exclude_scopes_gives_a_new_head(tmp_path):
    from models import build_backbone, load_checkpoint

    torch.manual_seed(1)
    pretrained = build_backbone("tiny_resnet", 4).model
    path = tmp_path / "pretrained.pt"
    torch.save(pretrained.state_dict(), path)
    torch.manual_seed(2)
    fresh = build_backbone("tiny_resnet", 4).model
    head = fresh.fc.weight.detach().clone()
    loaded = load_checkpoint(fresh, str(path), ["fc"])
    # the same shape, yet not loaded: TF-slim's --checkpoint_exclude_scopes
    assert loaded["skipped"] == ["fc.bias", "fc.weight"] and loaded["missing"] == ["fc.bias", "fc.weight"]
    assert torch.equal(fresh.fc.weight, head)
    assert torch.equal(fresh.features.block4.conv2.weight, pretrained.features.block4.conv2.weight)
    # a scope is a name or a prefix up to a dot, not any prefix of the text
    assert load_checkpoint(fresh, str(path), ["f"])["skipped"] == []


def test_tiny_wide_resnet_blocks():
    from models import build_backbone

    b = build_backbone("tiny_wide_resnet", 3)
    assert len(b.blocks) == 7 and b.classifier.in_features == 128
    assert b.model(torch.zeros(2, 3, 32, 32)).shape == (2, 3)


def test_synthetic_difficulty_changes_the_images_and_the_cache_key():
    from data import synthetic

    easy = synthetic(16, 8, 8, 3, seed=1)
    again = synthetic(16, 8, 8, 3, seed=1, noise=0.35, signal=1.0)
    hard = synthetic(16, 8, 8, 3, seed=1, noise=0.8, signal=0.35)
    # The defaults are the original data, under the original key (feature caches stay valid).
    assert easy.fingerprint == again.fingerprint
    assert (easy.train.images == again.train.images).all()
    assert hard.fingerprint != easy.fingerprint
    assert (hard.train.labels == easy.train.labels).all()
    assert not (hard.train.images == easy.train.images).all()

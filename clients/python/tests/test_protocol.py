"""params / report / should_stop over real files, as sweepd's command runner sets them up."""

import json
import math
import os

import numpy as np
import pytest

import sweepd
from sweepd import protocol


@pytest.fixture
def trial(tmp_path, monkeypatch):
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"learning_rate": 0.001, "optimizer": "adam", "frozen_layers": 3}))
    monkeypatch.setenv("SWEEPD_PARAMS_FILE", str(params))
    monkeypatch.setenv("SWEEPD_METRICS_FILE", str(tmp_path / "metrics.jsonl"))
    monkeypatch.setenv("SWEEPD_CONTROL_FILE", str(tmp_path / "control.json"))
    monkeypatch.setattr(protocol, "_stop_reason", None)
    return tmp_path


def test_params_reads_the_file_and_defaults_fill_in(trial):
    assert sweepd.params() == {"learning_rate": 0.001, "optimizer": "adam", "frozen_layers": 3}
    p = sweepd.params(defaults={"learning_rate": 0.5, "batch_size": 32})
    assert p == {"learning_rate": 0.001, "optimizer": "adam", "frozen_layers": 3, "batch_size": 32}


def test_params_outside_sweepd(monkeypatch):
    monkeypatch.delenv("SWEEPD_PARAMS_FILE", raising=False)
    with pytest.raises(sweepd.NotUnderSweepd, match=r"not running under sweepd.*defaults="):
        sweepd.params()
    assert sweepd.params(defaults={"learning_rate": 0.01}) == {"learning_rate": 0.01}
    assert not sweepd.under_sweepd()


def test_params_bad_files(trial, monkeypatch):
    bad = trial / "bad.json"
    bad.write_text("{not json")
    monkeypatch.setenv("SWEEPD_PARAMS_FILE", str(bad))
    with pytest.raises(ValueError, match="bad.json is not valid JSON"):
        sweepd.params()
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="holds a JSON list, not an object"):
        sweepd.params()
    monkeypatch.setenv("SWEEPD_PARAMS_FILE", str(trial / "missing.json"))
    with pytest.raises(sweepd.NotUnderSweepd, match="cannot read"):
        sweepd.params()


def test_report_appends_one_line_per_epoch(trial):
    import numpy as np
    sweepd.report(1, {"val_auc_macro": 0.75, "train_loss": np.float32(0.5)}, layers=[{"layer": "fc", "trainable": True, "kernelMovement": 0.01, "quantiles": np.arange(7) / 10}], notes={"device": "cpu", "gpu": None, "shape": np.array([1, 2])})
    sweepd.report(2, {"val_auc_macro": float("nan"), "train_loss": float("inf"), "x": -math.inf})
    text = (trial / "metrics.jsonl").read_text()
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == 3
    first = json.loads(lines[0])
    assert first == {
        "sweepd": 1,
        "epoch": 1,
        "metrics": {"val_auc_macro": 0.75, "train_loss": 0.5},
        "layers": [{"layer": "fc", "trainable": True, "kernelMovement": 0.01, "quantiles": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}],
        "notes": {"device": "cpu", "gpu": None, "shape": [1, 2]},
    }
    # bare NaN / Infinity tokens, as Python's json writes them (the protocol accepts them)
    assert '"val_auc_macro":NaN' in lines[1] and '"train_loss":Infinity' in lines[1] and '"x":-Infinity' in lines[1]
    second = json.loads(lines[1])
    assert math.isnan(second["metrics"]["val_auc_macro"]) and second["epoch"] == 2 and "layers" not in second


def test_report_refuses_what_the_protocol_refuses(trial):
    with pytest.raises(ValueError, match="at least 1"):
        sweepd.report(0, {"a": 1})
    with pytest.raises(TypeError, match="epoch must be an integer"):
        sweepd.report(1.5, {"a": 1})
    with pytest.raises(TypeError, match=r"metrics\['a'\] must be a number"):
        sweepd.report(1, {"a": "high"})
    with pytest.raises(TypeError, match="must be a number"):
        sweepd.report(1, {"a": True})
    with pytest.raises(ValueError, match=r"layers\[0\] has unknown field\(s\) 'kernel_movement'"):
        sweepd.report(1, {"a": 1}, layers=[{"layer": "fc", "kernel_movement": 0.1}])
    with pytest.raises(ValueError, match=r"layers\[1\].layer must be a non-empty string"):
        sweepd.report(1, {"a": 1}, layers=[{"layer": "fc"}, {"sparsity": 0.5}])
    # What sweepd would refuse (and could not store) is refused here, where the script is told.
    with pytest.raises(ValueError, match=r"layers\[0\] and layers\[1\] are both named '0'"):
        sweepd.report(1, {"a": 1}, layers=[{"layer": "0"}, {"layer": "0"}])
    with pytest.raises(ValueError, match="notes hold a NUL character"):
        sweepd.report(1, {"a": 1}, notes={"device": ["cpu\0"]})
    with pytest.raises(ValueError, match="metric name is 300 characters long; at most 256"):
        sweepd.report(1, {"x" * 300: 1})
    with pytest.raises(ValueError, match="6000 layers; at most 5000"):
        sweepd.report(1, {"a": 1}, layers=[{"layer": f"l{i}"} for i in range(6000)])
    with pytest.raises(ValueError, match="quantiles has 102 values; at most 101"):
        sweepd.report(1, {"a": 1}, layers=[{"layer": "fc", "quantiles": [0.0] * 102}])
    with pytest.raises(ValueError, match="notes are .* bytes of JSON; at most 65536"):
        sweepd.report(1, {"a": 1}, notes={"blob": "€" * 30000})
    with pytest.raises(ValueError, match="nest more than 32 levels"):
        deep: list = []
        for _ in range(31):
            deep = [deep]
        sweepd.report(1, {"a": 1}, notes={"d": deep})  # 33 levels, the notes counted: as sweepd counts them
    with pytest.raises(ValueError, match="half a UTF-16 surrogate pair"):
        sweepd.report(1, {"a": 1}, notes={"image": "/data/\udcff.jpg"})  # os.fsdecode of a non-UTF-8 file name
    with pytest.raises(ValueError, match="metric name is 260 characters long"):
        sweepd.report(1, {"😀" * 130: 1})  # two UTF-16 units each, as sweepd counts
    with pytest.raises(ValueError, match="'__proto__' is not accepted"):
        sweepd.report(1, {"__proto__": 1})
    # sweepd refuses the key at any depth of the notes, so the client does too (it wrote the line before).
    with pytest.raises(ValueError, match=r"'__proto__' in notes\.config\.layers\[1\] is not accepted"):
        sweepd.report(1, {"a": 1}, notes={"config": {"layers": [{}, {"__proto__": 1}]}})
    with pytest.raises(ValueError, match=r"metrics\['a'\] is an integer too large for a float"):
        sweepd.report(1, {"a": 10**400})
    with pytest.raises(TypeError, match="epoch must be an integer"):
        sweepd.report(np.array([1, 2]), {"a": 1})
    assert not (trial / "metrics.jsonl").exists()
    # At the limits exactly: accepted, as sweepd accepts them.
    shallow: list = []
    for _ in range(30):
        shallow = [shallow]
    sweepd.report(1, {"a": 1}, notes={"d": shallow})  # 32 levels
    sweepd.report(1, {"a": 1}, notes={"blob": "€" * 21_000})  # 63 KB of UTF-8
    # A literal backslash-u in a note is text, not a NUL.
    sweepd.report(1, {"a": 1}, notes={"path": "C:\\u0000"})


def test_report_falls_back_to_stdout(monkeypatch, capsys):
    monkeypatch.delenv("SWEEPD_METRICS_FILE", raising=False)
    line = sweepd.report(3, {"loss": 1.0})
    out = capsys.readouterr().out
    assert out == "@sweepd " + line + "\n"
    assert json.loads(line) == {"sweepd": 1, "epoch": 3, "metrics": {"loss": 1.0}}


def test_report_falls_back_to_stdout_when_the_file_cannot_be_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(protocol, "_metrics_file_failed", None)
    missing = str(tmp_path / "no-such-dir" / "m.jsonl")
    monkeypatch.setenv("SWEEPD_METRICS_FILE", missing)
    first = sweepd.report(1, {"loss": 1.0})
    second = sweepd.report(2, {"loss": 0.5})
    captured = capsys.readouterr()
    assert captured.out == "@sweepd " + first + "\n" + "@sweepd " + second + "\n"
    # Said once, naming the file and why.
    assert captured.err.count("sweepd: cannot write SWEEPD_METRICS_FILE=") == 1
    assert missing in captured.err and "reporting on stdout instead" in captured.err


def test_should_stop_follows_the_control_file(trial):
    control = trial / "control.json"
    assert sweepd.should_stop() is False
    control.write_text(json.dumps({"stop": False}))
    assert sweepd.should_stop() is False
    tmp = trial / "control.tmp"
    tmp.write_text(json.dumps({"stop": True, "reason": "median rule: below the median at epoch 2"}))
    os.replace(tmp, control)  # as sweepd writes it: atomically
    assert sweepd.should_stop() is True
    assert sweepd.stop_reason() == "median rule: below the median at epoch 2"
    control.unlink()
    assert sweepd.should_stop() is True  # a stop once seen stays


def test_should_stop_outside_sweepd(monkeypatch):
    monkeypatch.delenv("SWEEPD_CONTROL_FILE", raising=False)
    monkeypatch.setattr(protocol, "_stop_reason", None)
    assert sweepd.should_stop() is False


def test_should_stop_is_cheap(trial):
    import time

    n = 20000
    started = time.perf_counter()
    for _ in range(n):
        sweepd.should_stop()
    per_call = (time.perf_counter() - started) / n
    assert per_call < 50e-6, f"should_stop() took {per_call * 1e6:.1f} µs per call"


def test_env_helpers(monkeypatch):
    monkeypatch.setenv("SWEEPD_MAX_EPOCHS", "7")
    monkeypatch.setenv("SWEEPD_CACHE_DIR", "/tmp/c")
    assert sweepd.max_epochs(3) == 7 and sweepd.cache_dir() == "/tmp/c"
    monkeypatch.setenv("SWEEPD_MAX_EPOCHS", "seven")
    with pytest.raises(ValueError, match="SWEEPD_MAX_EPOCHS='seven' is not an integer"):
        sweepd.max_epochs()

"""The script's side of sweepd's reporting protocol, version 1 (docs/reporting-protocol.md).

Parameters come from the JSON file named by SWEEPD_PARAMS_FILE; each epoch is one JSON line
appended to SWEEPD_METRICS_FILE (or printed after the prefix ``@sweepd `` when no file is given);
a stop request appears as SWEEPD_CONTROL_FILE.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Iterable, Mapping, Optional

PROTOCOL_VERSION = 1
STDOUT_PREFIX = "@sweepd "

ENV_TRIAL_ID = "SWEEPD_TRIAL_ID"
ENV_TRIAL_DIR = "SWEEPD_TRIAL_DIR"
ENV_PARAMS_FILE = "SWEEPD_PARAMS_FILE"
ENV_METRICS_FILE = "SWEEPD_METRICS_FILE"
ENV_CONTROL_FILE = "SWEEPD_CONTROL_FILE"
ENV_CACHE_DIR = "SWEEPD_CACHE_DIR"
ENV_MAX_EPOCHS = "SWEEPD_MAX_EPOCHS"
ENV_OBJECTIVE = "SWEEPD_OBJECTIVE"

#: The per-layer fields the protocol accepts (camelCase, as sweepd stores them); others are refused.
LAYER_FIELDS = (
    "layer",
    "trainable",
    "kernelMovement",
    "biasMovement",
    "updateRatio",
    "mean",
    "std",
    "fractionNegative",
    "quantiles",
    "sparsity",
    "deadFraction",
)
_LAYER_NUMBERS = frozenset(LAYER_FIELDS) - {"layer", "trainable", "quantiles"}

#: The protocol's limits per line (docs/reporting-protocol.md): a line past one is refused by sweepd,
#: so report() refuses it at once, where the script can still be told.
MAX_METRICS = 25_000
MAX_LAYERS = 5_000
MAX_NAME_CHARS = 256
MAX_QUANTILES = 101
MAX_NOTE_BYTES = 64 * 1024
MAX_NOTE_DEPTH = 32


class NotUnderSweepd(RuntimeError):
    """Raised by params() when the script runs outside sweepd and no defaults were given."""


def under_sweepd() -> bool:
    """Whether sweepd started this process (SWEEPD_PARAMS_FILE is set)."""
    return bool(os.environ.get(ENV_PARAMS_FILE))


def params(defaults: Optional[Mapping[str, Any]] = None) -> dict:
    """The trial's parameters: the JSON object in SWEEPD_PARAMS_FILE.

    Outside sweepd (no SWEEPD_PARAMS_FILE), returns a copy of ``defaults`` so that the script can be
    run by hand; without defaults it raises NotUnderSweepd saying how to do that. Under sweepd the
    file's values win over ``defaults`` (which then fill in what the spec does not set).
    """
    path = os.environ.get(ENV_PARAMS_FILE)
    if not path:
        if defaults is not None:
            return dict(defaults)
        raise NotUnderSweepd(
            f"sweepd.params(): {ENV_PARAMS_FILE} is not set, so this script is not running under sweepd. "
            "To run it by hand, pass the values to use: sweepd.params(defaults={'learning_rate': 0.01, ...})"
        )
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise NotUnderSweepd(f"sweepd.params(): cannot read {ENV_PARAMS_FILE}={path}: {e.strerror or e}") from e
    try:
        value = json.loads(text)
    except ValueError as e:
        raise ValueError(f"sweepd.params(): {ENV_PARAMS_FILE}={path} is not valid JSON: {e}") from e
    if not isinstance(value, dict):
        raise ValueError(f"sweepd.params(): {ENV_PARAMS_FILE}={path} holds a JSON {type(value).__name__}, not an object")
    return {**(defaults or {}), **value}


def _number(value: Any, where: str) -> float:
    """A float from a Python/numpy/torch scalar; bools and non-numbers are refused."""
    if isinstance(value, bool) or value is None:
        raise TypeError(f"sweepd.report(): {where} must be a number, got {value!r}")
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        try:
            value = value.item()  # numpy scalar, 0-d array, one-element torch tensor
        except (ValueError, RuntimeError) as e:
            raise TypeError(f"sweepd.report(): {where} must be a single number, got an array: {e}") from e
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"sweepd.report(): {where} must be a number, got {type(value).__name__} {value!r}")
    try:
        return float(value)
    except OverflowError as e:
        raise ValueError(f"sweepd.report(): {where} is an integer too large for a float (report it as float('inf') if it is unbounded)") from e


def _layer(entry: Any, i: int) -> dict:
    if hasattr(entry, "to_dict"):
        entry = entry.to_dict()
    if not isinstance(entry, Mapping):
        raise TypeError(f"sweepd.report(): layers[{i}] must be a dict, got {type(entry).__name__}")
    unknown = [k for k in entry if k not in LAYER_FIELDS]
    if unknown:
        raise ValueError(
            f"sweepd.report(): layers[{i}] has unknown field(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(LAYER_FIELDS)}"
        )
    name = entry.get("layer")
    if not isinstance(name, str) or not name:
        raise ValueError(f"sweepd.report(): layers[{i}].layer must be a non-empty string, got {name!r}")
    _check_name(name, f"layers[{i}].layer")
    out: dict = {"layer": name}
    if "trainable" in entry:
        if not isinstance(entry["trainable"], bool):
            raise TypeError(f"sweepd.report(): layers[{i}].trainable must be true or false, got {entry['trainable']!r}")
        out["trainable"] = entry["trainable"]
    for key in LAYER_FIELDS:
        if key in _LAYER_NUMBERS and entry.get(key) is not None:
            out[key] = _number(entry[key], f"layers[{i}].{key}")
    if entry.get("quantiles") is not None:
        q = [_number(v, f"layers[{i}].quantiles[{j}]") for j, v in enumerate(entry["quantiles"])]
        if len(q) > MAX_QUANTILES:
            raise ValueError(f"sweepd.report(): layers[{i}].quantiles has {len(q)} values; at most {MAX_QUANTILES}")
        out["quantiles"] = q
    return out


def _check_name(name: str, where: str) -> None:
    # Counted as sweepd counts (UTF-16 code units: an emoji is two).
    length = len(name.encode("utf-16-le", "surrogatepass")) // 2
    if length > MAX_NAME_CHARS:
        raise ValueError(f"sweepd.report(): {where} is {length} characters long; at most {MAX_NAME_CHARS}: {name[:40]!r}…")
    bad = _bad_text(name)
    if bad:
        raise ValueError(f"sweepd.report(): {where} {name!r} holds {bad}")


def _bad_text(text: str) -> Optional[str]:
    """What in a string sweepd cannot store: U+0000, or a lone surrogate (a file name read with surrogateescape)."""
    if "\0" in text:
        return "a NUL character, which sweepd cannot store"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "half a UTF-16 surrogate pair (not valid Unicode), which sweepd cannot store"
    return None


def _depth(value: Any, limit: int) -> bool:
    """Whether ``value`` nests at most ``limit`` levels of lists and dicts."""
    stack = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (dict, list, tuple)):
            if d > limit:
                return False
            stack.extend((child, d + 1) for child in (v.values() if isinstance(v, dict) else v))
    return True


def _bad_text_in(value: Any) -> Optional[str]:
    """What a string (or a dict key) anywhere in ``value`` holds that sweepd cannot store, if any."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            bad = _bad_text(v)
            if bad:
                return bad
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
    return None


def _proto_key_in(value: Any, path: str) -> Optional[str]:
    """Where a dict anywhere in ``value`` has a key named __proto__, which sweepd refuses at any depth."""
    stack = [(value, path)]
    while stack:
        v, at = stack.pop()
        if isinstance(v, dict):
            for key, child in v.items():
                if key == "__proto__":
                    return at
                stack.append((child, f"{at}.{key}"))
        elif isinstance(v, (list, tuple)):
            stack.extend((child, f"{at}[{i}]") for i, child in enumerate(v))
    return None


def _jsonable(value: Any) -> Any:
    """json.dumps' fallback for numpy/torch values inside notes."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"sweepd.report(): notes hold a {type(value).__name__}, which JSON cannot represent: {value!r}")


def format_report(
    epoch: int,
    metrics: Mapping[str, Any],
    layers: Optional[Iterable[Any]] = None,
    notes: Optional[Mapping[str, Any]] = None,
) -> str:
    """One protocol line (without the newline), validated. NaN and ±Infinity are written as Python's
    json writes them (bare NaN / Infinity / -Infinity), which sweepd accepts."""
    if isinstance(epoch, bool) or not isinstance(epoch, int):
        try:
            single = epoch.item() if hasattr(epoch, "item") else None  # a numpy or torch scalar
        except (ValueError, RuntimeError):
            single = None  # an array of several values
        if isinstance(single, (int, float)) and not isinstance(single, bool) and float(single).is_integer():
            epoch = int(single)
        else:
            raise TypeError(f"sweepd.report(): epoch must be an integer, got {epoch!r}")
    if epoch < 1:
        raise ValueError(f"sweepd.report(): epoch is 1-based and must be at least 1, got {epoch}")
    if not isinstance(metrics, Mapping):
        raise TypeError(f"sweepd.report(): metrics must be a dict of name -> number, got {type(metrics).__name__}")
    if len(metrics) > MAX_METRICS:
        raise ValueError(f"sweepd.report(): {len(metrics)} metrics; at most {MAX_METRICS} in one epoch")
    clean = {}
    for name, value in metrics.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"sweepd.report(): metric names must be non-empty strings, got {name!r}")
        if name == "__proto__":
            raise ValueError("sweepd.report(): the metric name '__proto__' is not accepted")
        _check_name(name, "metric name")
        clean[name] = _number(value, f"metrics[{name!r}]")
    record: dict = {"sweepd": PROTOCOL_VERSION, "epoch": epoch, "metrics": clean}
    if layers is not None:
        record["layers"] = [_layer(entry, i) for i, entry in enumerate(layers)]
        if len(record["layers"]) > MAX_LAYERS:
            raise ValueError(f"sweepd.report(): {len(record['layers'])} layers; at most {MAX_LAYERS} in one epoch")
        seen: dict = {}
        for i, entry in enumerate(record["layers"]):
            if entry["layer"] in seen:
                raise ValueError(
                    f"sweepd.report(): layers[{seen[entry['layer']]}] and layers[{i}] are both named {entry['layer']!r}: "
                    "each layer once per epoch (two LayerStats over separate modules both name their first child '0': "
                    "give one LayerStats the whole model)"
                )
            seen[entry["layer"]] = i
    if notes is not None:
        if not isinstance(notes, Mapping):
            raise TypeError(f"sweepd.report(): notes must be a dict, got {type(notes).__name__}")
        if not _depth(dict(notes), MAX_NOTE_DEPTH - 1):  # the notes themselves are sweepd's level 1
            raise ValueError(f"sweepd.report(): notes nest more than {MAX_NOTE_DEPTH} levels")
        where = _proto_key_in(dict(notes), "notes")
        if where:
            raise ValueError(f"sweepd.report(): the key '__proto__' in {where} is not accepted (sweepd drops the line: it would vanish)")
        record["notes"] = dict(notes)
    line = json.dumps(record, allow_nan=True, separators=(",", ":"), default=_jsonable)
    if notes is not None:
        # The JSON text's UTF-8 bytes, non-ASCII unescaped: at least what sweepd counts (each number in
        # its shortest form), so notes written here are never refused there for their size.
        text = json.dumps(record["notes"], allow_nan=True, separators=(",", ":"), default=_jsonable, ensure_ascii=False)
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_NOTE_BYTES:
            raise ValueError(f"sweepd.report(): notes are {size} bytes of JSON; at most {MAX_NOTE_BYTES}")
    bad = _bad_text_in(record["notes"]) if notes is not None else None
    if bad:
        raise ValueError(f"sweepd.report(): the notes hold {bad}")
    return line


def report(
    epoch: int,
    metrics: Mapping[str, Any],
    layers: Optional[Iterable[Any]] = None,
    notes: Optional[Mapping[str, Any]] = None,
) -> str:
    """Reports one epoch: appends one JSON line to SWEEPD_METRICS_FILE in a single write.

    Without SWEEPD_METRICS_FILE (run by hand, or no file), or when that file cannot be written,
    prints the line after ``@sweepd `` on stdout, which sweepd also reads (a file that cannot be
    written is said once on stderr, and not tried again). Returns the line written. ``layers`` are
    dicts (or LayerStats entries) with the protocol's camelCase fields; ``notes`` is any JSON-able dict.
    """
    global _metrics_file_failed
    line = format_report(epoch, metrics, layers, notes)
    path = os.environ.get(ENV_METRICS_FILE)
    if path and _metrics_file_failed != path:
        try:
            _append_line(path, line)
            return line
        except OSError as err:
            _metrics_file_failed = path
            sys.stderr.write(f"sweepd: cannot write {ENV_METRICS_FILE}={path} ({err}); reporting on stdout instead\n")
            sys.stderr.flush()
    sys.stdout.write(STDOUT_PREFIX + line + "\n")
    sys.stdout.flush()
    return line


# The metrics file that could not be written, so later reports go to stdout without trying it again.
_metrics_file_failed: Optional[str] = None


def _append_line(path: str, line: str) -> None:
    data = (line + "\n").encode("utf-8")
    # O_APPEND and one write: the line lands whole at the end even if something else appends.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, data)
        while written < len(data):
            written += os.write(fd, data[written:])
    finally:
        os.close(fd)


_stop_reason: Optional[str] = None


def should_stop() -> bool:
    """Whether sweepd asked this trial to stop (SWEEPD_CONTROL_FILE exists and says stop).

    One stat() while no stop was requested, so it is cheap enough to call every batch. Once a stop
    is seen it stays True. Outside sweepd it is always False.
    """
    global _stop_reason
    if _stop_reason is not None:
        return True
    path = os.environ.get(ENV_CONTROL_FILE)
    if not path:
        return False
    try:
        os.stat(path)
    except OSError:
        return False
    try:
        with open(path, encoding="utf-8") as f:
            request = json.loads(f.read())
    except (OSError, ValueError):
        # sweepd writes the file atomically and only to stop; an unreadable one still means stop.
        _stop_reason = "stop requested (control file unreadable)"
        return True
    if isinstance(request, dict) and request.get("stop") is True:
        _stop_reason = str(request.get("reason") or "stop requested")
        return True
    return False


def stop_reason() -> Optional[str]:
    """The reason sweepd gave for the stop, once should_stop() has returned True."""
    return _stop_reason


def cache_dir(default: Optional[str] = None) -> Optional[str]:
    """SWEEPD_CACHE_DIR (shared by the worker's trials), else ``default``."""
    return os.environ.get(ENV_CACHE_DIR) or default


def max_epochs(default: Optional[int] = None) -> Optional[int]:
    """The study's budget.max_epochs (SWEEPD_MAX_EPOCHS), else ``default``."""
    value = os.environ.get(ENV_MAX_EPOCHS)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as e:
        raise ValueError(f"{ENV_MAX_EPOCHS}={value!r} is not an integer") from e

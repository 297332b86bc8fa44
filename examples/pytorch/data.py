"""Datasets for finetune.py: sweepd's on-disk format, or a generated multi-label set.

On-disk format (packages/trainer/src/data/README.md in the sweepd repository): a directory with
``dataset.json`` naming raw tensors — images N×H×W×C as ``.u8`` (0–255) or ``.f32`` (float32 LE,
in [0, 1]), labels N×classes bytes 0/1. Images are memory-mapped, so a large set is read batch by
batch rather than loaded whole.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import List

import numpy as np


@dataclass
class Split:
    images: np.ndarray  # N×H×W×C, uint8 (0–255) or float32 ([0, 1])
    labels: np.ndarray  # N×classes, uint8 0/1

    @property
    def count(self) -> int:
        return self.labels.shape[0]


@dataclass
class Dataset:
    name: str
    classes: List[str]
    train: Split
    val: Split
    fingerprint: str  # what the feature cache keys the data by


def _fail(directory: str, message: str):
    raise ValueError(f"dataset {directory}: {message}")


def load_disk(directory: str) -> Dataset:
    manifest_path = os.path.join(directory, "dataset.json")
    try:
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        _fail(directory, "no dataset.json there (see the on-disk format in packages/trainer/src/data/README.md)")
    except ValueError as e:
        _fail(directory, f"dataset.json is not valid JSON: {e}")
    try:
        classes = list(manifest["classes"])
        h, w, c = (int(manifest["image"][k]) for k in ("height", "width", "channels"))
        splits = manifest["splits"]
    except (KeyError, TypeError) as e:
        _fail(directory, f"dataset.json lacks {e} (needs classes, image.height/width/channels, splits.train/val)")
    fingerprint = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode())
    out = {}
    for which in ("train", "val"):
        spec = splits.get(which) if isinstance(splits, dict) else None
        if not spec or "images" not in spec or "labels" not in spec:
            _fail(directory, f"splits.{which} must name images and labels")
        for key in ("images", "labels"):
            f = spec[key]
            if os.path.isabs(f) or ".." in f.replace("\\", "/").split("/"):
                _fail(directory, f"splits.{which}.{key}: {f} must be a path inside the dataset directory")
            st = os.stat(os.path.join(directory, f))
            # cheap fingerprint: names, sizes and modification times (hashing 200 GB of images would take longer than the features)
            fingerprint.update(f"{f}:{st.st_size}:{st.st_mtime_ns}".encode())
        labels = np.fromfile(os.path.join(directory, spec["labels"]), dtype=np.uint8)
        if labels.size == 0 or labels.size % len(classes):
            _fail(directory, f"{spec['labels']} has {labels.size} bytes, not a positive multiple of the {len(classes)} classes")
        labels = labels.reshape(-1, len(classes))
        if labels.max() > 1:
            _fail(directory, f"{spec['labels']}: labels must be 0 or 1, found {labels.max()}")
        n = labels.shape[0]
        image_file = os.path.join(directory, spec["images"])
        dtype = np.uint8 if spec["images"].endswith(".u8") else np.dtype("<f4") if spec["images"].endswith(".f32") else None
        if dtype is None:
            _fail(directory, f"splits.{which}.images must end in .u8 or .f32")
        need = n * h * w * c * np.dtype(dtype).itemsize
        if os.path.getsize(image_file) != need:
            _fail(directory, f"{spec['images']} has {os.path.getsize(image_file)} bytes, but {n} images of {h}×{w}×{c} need {need}")
        images = np.memmap(image_file, dtype=dtype, mode="r", shape=(n, h, w, c))
        out[which] = Split(images, labels)
    return Dataset(manifest.get("name") or os.path.basename(os.path.abspath(directory)), classes, out["train"], out["val"], fingerprint.hexdigest())


def synthetic(
    train_size: int, val_size: int, image_size: int, num_classes: int, seed: int, noise: float = 0.35, signal: float = 1.0
) -> Dataset:
    """Coloured blobs over noise, one blob per class present (prevalence 0.3). As in real
    fine-tuning data, the last class never occurs in validation: its AUC is undefined and listed.
    `noise` (uniform noise amplitude) and `signal` (blob brightness) set how hard it is."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:image_size, 0:image_size] / image_size
    patterns = []
    for _ in range(num_classes):
        cy, cx, r = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.08, 0.18)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        patterns.append(blob[:, :, None] * rng.uniform(0.3, 1.0, 3)[None, None, :])
    patterns = np.stack(patterns).astype(np.float32)  # classes×H×W×3

    def split(n: int, absent_last: bool) -> Split:
        labels = (rng.random((n, num_classes)) < 0.3).astype(np.uint8)
        if absent_last and num_classes > 1:
            labels[:, -1] = 0
        images = noise * rng.random((n, image_size, image_size, 3), dtype=np.float32)
        images += signal * np.tensordot(labels.astype(np.float32), patterns, axes=1)
        return Split(np.clip(images * 255, 0, 255).astype(np.uint8), labels)

    train = split(train_size, False)
    val = split(val_size, True)
    shape = f"{train_size}:{val_size}:{image_size}:{num_classes}:{seed}"
    # The original key for the original look, so feature caches made before these options stay valid.
    key = f"synthetic:v1:{shape}" if (noise, signal) == (0.35, 1.0) else f"synthetic:v2:{shape}:{noise}:{signal}"
    fingerprint = hashlib.sha256(key.encode()).hexdigest()
    return Dataset("synthetic", [f"obj_{k}" for k in range(num_classes)], train, val, fingerprint)

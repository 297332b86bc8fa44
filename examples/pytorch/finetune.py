#!/usr/bin/env python3
"""Fine-tune an image classifier on multi-label data, reporting each epoch to sweepd.

TF-slim's flag names (train_image_classifier.py), so that sweepd's ``args: flags`` and
``sweepd export --format flags`` speak the same language:

    python3 finetune.py --model=tiny_resnet --dataset=synthetic --learning_rate=0.01 --optimizer=rmsprop \
        --rmsprop_tf1 --frozen_layers=2 --num_epochs=3

Under sweepd (the command runner) it reports per-class AUC and layer statistics through the
sweepd client and stops cleanly when asked; run by hand it prints the same reports after
``@sweepd ``. Runs on the CPU or on CUDA unchanged (``--device=auto``). See README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

try:
    import sweepd
except ImportError:  # in the sweepd repository without `pip install ./clients/python`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
    import sweepd

from sweepd.torch import LayerStats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import Dataset, load_disk, synthetic  # noqa: E402
from models import Backbone, build_backbone, load_checkpoint  # noqa: E402
from optim import OPTIMIZERS, build_optimizer, learning_rate_at  # noqa: E402


def absl_bool(text: str) -> bool:
    low = str(text).lower()
    if low in ("1", "true", "t", "yes", "y"):
        return True
    if low in ("0", "false", "f", "no", "n"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def add_bool(p: argparse.ArgumentParser, name: str, default: bool, help: str) -> None:
    """absl's forms: --name, --noname, --name=true/false."""
    p.add_argument(f"--{name}", nargs="?", const=True, default=default, type=absl_bool, help=help)
    p.add_argument(f"--no{name}", dest=name, action="store_false", help=argparse.SUPPRESS)


def parse_flags(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    # model and data
    p.add_argument("--model", "--model_name", default="tiny_resnet", help="tiny_resnet, tiny_wide_resnet, or a timm / torchvision model name (inception_v4, resnet18, …)")
    p.add_argument("--checkpoint_path", "--checkpoint", default=None, help="pretrained weights (a state_dict file); random weights when absent")
    p.add_argument("--checkpoint_exclude_scopes", default="", help="comma-separated name prefixes not loaded from the checkpoint (e.g. fc: a new head, as TF-slim's flag)")
    p.add_argument("--dataset", "--dataset_name", default="synthetic", help="'synthetic' (generated), or 'disk' with --data_dir")
    p.add_argument("--data_dir", "--dataset_dir", default=None, help="a dataset in sweepd's on-disk format (implies --dataset=disk)")
    p.add_argument("--train_size", type=int, default=512, help="synthetic: training images")
    p.add_argument("--val_size", type=int, default=256, help="synthetic: validation images")
    p.add_argument("--num_classes", type=int, default=5, help="synthetic: classes")
    p.add_argument("--synthetic_image_size", type=int, default=32, help="synthetic: generated image size")
    p.add_argument("--synthetic_noise", type=float, default=0.35, help="synthetic: noise amplitude (higher is harder)")
    p.add_argument("--synthetic_signal", type=float, default=1.0, help="synthetic: brightness of the class blobs (lower is harder)")
    p.add_argument("--image_size", type=int, default=0, help="resize inputs to this size on the device (e.g. 299 for inception_v4); 0: as stored")
    p.add_argument("--preprocessing_name", default="inception", choices=["inception", "imagenet", "none"], help="inception: [-1, 1] as TF-slim; imagenet: mean/std; none: [0, 1]")
    # the TF-slim training flags
    p.add_argument("--learning_rate", type=float, default=0.01)
    p.add_argument("--optimizer", default="rmsprop", choices=OPTIMIZERS)
    add_bool(p, "rmsprop_tf1", False, "rmsprop with TF1 semantics (mean square starts at 1, epsilon inside the root)")
    p.add_argument("--rmsprop_momentum", type=float, default=0.9)
    p.add_argument("--rmsprop_decay", type=float, default=0.9)
    p.add_argument("--opt_epsilon", type=float, default=1.0)
    p.add_argument("--adam_beta1", type=float, default=0.9)
    p.add_argument("--adam_beta2", type=float, default=0.999)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight_decay", type=float, default=0.00004, help="L2 on conv/linear kernels, as TF-slim's arg scopes")
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--learning_rate_decay_type", default="exponential", choices=["exponential", "fixed", "polynomial"])
    p.add_argument("--learning_rate_decay_factor", type=float, default=0.94)
    p.add_argument("--num_epochs_per_decay", type=float, default=2.0)
    p.add_argument("--end_learning_rate", type=float, default=0.0001)
    p.add_argument("--frozen_layers", type=int, default=0, help="blocks frozen from the input side (models.py says what a block is)")
    p.add_argument("--num_epochs", "--max_epochs", type=int, default=sweepd.max_epochs(10), help="epochs (default: the study's max_epochs)")
    # running
    p.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda, cuda:1, …")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"], help="bf16: autocast on CUDA")
    p.add_argument("--eval_batch_size", type=int, default=256)
    p.add_argument("--probe_size", type=int, default=64, help="validation images whose ReLU outputs give sparsity and dead units")
    add_bool(p, "layer_stats", True, "report per-layer statistics")
    add_bool(p, "feature_cache", True, "cache the frozen prefix's output in SWEEPD_CACHE_DIR")
    p.add_argument("--save_checkpoint", default=None, help="after training, save the whole model's state_dict here (a pretraining run)")
    p.add_argument("--feature_cache_max_mb", type=float, default=4096, help="do not cache prefix outputs larger than this")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--seed", type=int, default=0)
    flags = p.parse_args(argv)
    if flags.data_dir:
        flags.dataset = "disk"
    if flags.dataset not in ("synthetic", "disk"):
        p.error(f"--dataset={flags.dataset}: use 'synthetic', or --data_dir for sweepd's on-disk format")
    if flags.dataset == "disk" and not flags.data_dir:
        p.error("--dataset=disk needs --data_dir")
    for name in ("batch_size", "num_epochs", "eval_batch_size"):
        if getattr(flags, name) < 1:
            p.error(f"--{name} must be at least 1, got {getattr(flags, name)}")
    if flags.learning_rate <= 0:
        p.error(f"--learning_rate must be > 0, got {flags.learning_rate}")
    return flags


def pick_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        # A GPU worker gives its trial a GPU in CUDA_VISIBLE_DEVICES: training on the CPU instead
        # would report the GPU as used while it sat idle.
        given = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
        if given and given != "-1":
            raise SystemExit(
                f"--device=auto: this trial was given GPU(s) CUDA_VISIBLE_DEVICES={given}, but CUDA is not available "
                f"to torch {torch.__version__} (cuda build: {torch.version.cuda}); refusing to train on the CPU instead. "
                "Install a CUDA build of torch, or pass --device=cpu to train on the CPU on purpose."
            )
        return torch.device("cpu")
    return torch.device(name)


def device_notes(device: torch.device) -> dict:
    notes = {"device": str(device), "torch": torch.__version__}
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        notes["gpu_index"] = index
        notes["gpu_name"] = torch.cuda.get_device_name(index)
        notes["cuda_visible_devices"] = os.environ.get("CUDA_VISIBLE_DEVICES")
    else:
        notes["threads"] = torch.get_num_threads()
    return notes


class Inputs:
    """numpy NHWC batches → preprocessed NCHW float tensors on the device."""

    def __init__(self, device: torch.device, size: int, preprocessing: str):
        self.device, self.size, self.preprocessing = device, size, preprocessing

    def __call__(self, images: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(images)).to(self.device, non_blocking=True)
        x = x.permute(0, 3, 1, 2).float()
        if images.dtype == np.uint8:
            x = x / 255.0
        if self.size and (x.shape[2] != self.size or x.shape[3] != self.size):
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        if self.preprocessing == "inception":
            x = x * 2.0 - 1.0
        elif self.preprocessing == "imagenet":
            mean = torch.tensor([0.485, 0.456, 0.406], device=x.device).view(1, 3, 1, 1)
            std = torch.tensor([0.229, 0.224, 0.225], device=x.device).view(1, 3, 1, 1)
            x = (x - mean) / std
        return x.contiguous()


def freeze(backbone: Backbone, depth: int) -> None:
    if not 0 <= depth <= len(backbone.blocks):
        raise ValueError(
            f"--frozen_layers={depth}: {backbone.name} has {len(backbone.blocks)} blocks, so it must be between 0 and {len(backbone.blocks)} (all blocks: head only)"
        )
    for block in backbone.blocks[:depth]:
        for param in block.parameters():
            param.requires_grad_(False)


def set_train_mode(backbone: Backbone, depth: int) -> None:
    """Train mode, except the frozen blocks: their BatchNorm keeps the pretrained statistics."""
    backbone.model.train()
    for block in backbone.blocks[:depth]:
        block.eval()


def weights_key(flags) -> str:
    if flags.checkpoint_path:
        h = hashlib.sha256()
        with open(flags.checkpoint_path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 24), b""):
                h.update(chunk)
        return "file:" + h.hexdigest()
    return f"random:seed={flags.seed}"


def prefix_features(backbone, data: Dataset, depth: int, inputs: Inputs, flags, autocast, log) -> tuple:
    """The frozen prefix's output for every train and validation image, cached in SWEEPD_CACHE_DIR.

    Valid only because the prefix is frozen AND runs in eval mode (BatchNorm on its running
    statistics) AND the inputs are not augmented: then the prefix maps each image to the same
    output in every epoch and every trial, and the key (model, weights hash, depth, data
    fingerprint, input size and preprocessing, precision) names it. Add random augmentation and
    this cache must go.
    """
    key_text = json.dumps(
        {"v": 1, "model": flags.model, "weights": weights_key(flags), "depth": depth, "data": data.fingerprint,
         "image_size": flags.image_size, "preprocessing": flags.preprocessing_name, "precision": flags.precision},
        sort_keys=True,
    )
    key = hashlib.sha256(key_text.encode()).hexdigest()[:32]
    cache_root = sweepd.cache_dir()
    path = os.path.join(cache_root, "finetune-features", f"{flags.model}-d{depth}-{key}.pt") if cache_root else None
    if path and os.path.exists(path):
        cached = torch.load(path, map_location="cpu", weights_only=True)
        log(f"feature cache: reused {path}")
        return cached["train"], cached["val"], "hit"
    for block in backbone.blocks[:depth]:
        block.eval()
    out = {}
    with torch.no_grad(), autocast():
        for which, split in (("train", data.train), ("val", data.val)):
            parts = []
            for start in range(0, split.count, flags.eval_batch_size):
                h = backbone.prefix(inputs(split.images[start : start + flags.eval_batch_size]), depth)
                parts.append(h.float().cpu())
            out[which] = torch.cat(parts)
    megabytes = (out["train"].numel() + out["val"].numel()) * 4 / 1e6
    if path:
        if megabytes <= flags.feature_cache_max_mb:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            torch.save(out, tmp)
            os.replace(tmp, path)  # atomic: a trial reading it never sees half a file
            log(f"feature cache: wrote {path} ({megabytes:.0f} MB)")
        else:
            log(f"feature cache: {megabytes:.0f} MB exceeds --feature_cache_max_mb, kept in memory only")
    return out["train"], out["val"], "computed"


def main(argv=None) -> int:
    flags = parse_flags(argv)
    log = lambda message: print(f"[finetune] {message}", file=sys.stderr, flush=True)  # noqa: E731
    if flags.threads:
        torch.set_num_threads(flags.threads)
    torch.manual_seed(flags.seed)
    np.random.seed(flags.seed)
    device = pick_device(flags.device)
    use_bf16 = flags.precision == "bf16" and device.type == "cuda"
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_bf16 else (lambda: torch.autocast("cpu", enabled=False))

    if flags.dataset == "disk":
        data = load_disk(flags.data_dir)
    else:
        data = synthetic(
            flags.train_size, flags.val_size, flags.synthetic_image_size, flags.num_classes, flags.seed, flags.synthetic_noise, flags.synthetic_signal
        )
    classes = len(data.classes)
    inputs = Inputs(device, flags.image_size, flags.preprocessing_name)

    backbone = build_backbone(flags.model, classes)
    if flags.checkpoint_path:
        exclude = [scope.strip() for scope in flags.checkpoint_exclude_scopes.split(",") if scope.strip()]
        loaded = load_checkpoint(backbone.model, flags.checkpoint_path, exclude)
        log(f"checkpoint {flags.checkpoint_path}: {loaded['loaded']} tensors loaded, skipped {loaded['skipped'] or 'none'}, missing {loaded['missing'] or 'none'}")
    backbone.model.to(device)
    depth = flags.frozen_layers
    freeze(backbone, depth)

    # Frozen prefix → cached features: each epoch then runs only the trainable rest.
    cache = "off"
    cache_seconds = 0.0
    train_h = val_h = None
    if depth > 0 and flags.feature_cache and backbone.can_split(depth):
        t0 = time.perf_counter()
        train_h, val_h, cache = prefix_features(backbone, data, depth, inputs, flags, autocast, log)
        cache_seconds = time.perf_counter() - t0

    trainable = [p for p in backbone.model.parameters() if p.requires_grad]
    kernels = [p for p in trainable if p.dim() > 1]
    others = [p for p in trainable if p.dim() <= 1]
    groups = [{"params": kernels, "weight_decay": flags.weight_decay}, {"params": others, "weight_decay": 0.0}]
    optimizer = build_optimizer(flags.optimizer, [g for g in groups if g["params"]], flags)
    loss_fn = nn.BCEWithLogitsLoss()  # sigmoid cross-entropy, mean over images and classes

    # Sparsity and dead units come from the first probe_size validation images: measured once through
    # the whole model now (ReLUs in a cached frozen prefix never change), then each epoch on the
    # validation pass's first batch, which is exactly those images (no extra forward pass).
    stats = LayerStats(backbone.model) if flags.layer_stats else None
    probe_n = min(flags.probe_size, data.val.count) if stats is not None else 0
    if probe_n:
        stats.measure(inputs(data.val.images[:probe_n]))
    base_notes = {
        **device_notes(device),
        "model": flags.model,
        "blocks": len(backbone.blocks),
        "frozen_blocks": depth,
        "feature_cache": cache,
        "precision": "bf16" if use_bf16 else "fp32",
        "optimizer": "rmsprop_tf1" if flags.optimizer == "rmsprop" and flags.rmsprop_tf1 else flags.optimizer,
    }
    log(f"{flags.model} on {device}: {len(backbone.blocks)} blocks, {depth} frozen, feature cache {cache}, {data.train.count} train / {data.val.count} val images, {classes} classes")

    n = data.train.count
    steps_per_epoch = (n + flags.batch_size - 1) // flags.batch_size
    rng = np.random.default_rng(flags.seed)
    step = 0
    val_labels_t = torch.from_numpy(np.asarray(data.val.labels, dtype=np.float32))
    for epoch in range(1, flags.num_epochs + 1):
        started = time.perf_counter()
        set_train_mode(backbone, depth)
        order = rng.permutation(n)
        total_loss, seen = 0.0, 0
        cut_short = False
        lr = flags.learning_rate
        for s in range(steps_per_epoch):
            idx = np.sort(order[s * flags.batch_size : (s + 1) * flags.batch_size])  # sorted: memmap reads go forward
            y = torch.from_numpy(np.asarray(data.train.labels[idx], dtype=np.float32)).to(device, non_blocking=True)
            lr = learning_rate_at(step, steps_per_epoch, flags)
            for g in optimizer.param_groups:
                g["lr"] = lr
            with autocast():
                logits = backbone.suffix(train_h[idx].to(device, non_blocking=True), depth) if train_h is not None else backbone.model(inputs(data.train.images[idx]))
                loss = loss_fn(logits.float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            total_loss += loss.item() * len(idx)
            seen += len(idx)
            # A full-scale epoch takes far longer than sweepd's stop grace (5 s by default): look after
            # every step (one stat() call while no stop was asked).
            if sweepd.should_stop():
                log(f"sweepd asked to stop during epoch {epoch}: {sweepd.stop_reason()}")
                cut_short = True
                break
        if cut_short:
            break  # no evaluation of half an epoch; the weights are still saved below
        if device.type == "cuda":
            torch.cuda.synchronize()
        train_seconds = time.perf_counter() - started

        backbone.model.eval()
        scores = []
        bounds = [0, *range(probe_n or flags.eval_batch_size, data.val.count, flags.eval_batch_size), data.val.count]
        with torch.no_grad(), autocast():
            for start, end in zip(bounds, bounds[1:]):
                watching = stats.watch() if probe_n and start == 0 else contextlib.nullcontext()
                with watching:
                    out = backbone.suffix(val_h[start:end].to(device), depth) if val_h is not None else backbone.model(inputs(data.val.images[start:end]))
                scores.append(out.float().cpu())
        scores_t = torch.cat(scores)
        val_loss = loss_fn(scores_t, val_labels_t).item()
        train_loss = total_loss / seen
        metrics = {"train_loss": train_loss, "val_loss": val_loss, "learning_rate": lr}
        notes = dict(base_notes, train_seconds=train_seconds, images_per_second=seen / train_seconds)
        if epoch == 1 and cache != "off":
            notes["feature_cache_seconds"] = cache_seconds
        diverged = not (np.isfinite(train_loss) and np.isfinite(val_loss)) or bool(torch.isnan(scores_t).any())
        layers = None
        if diverged:
            notes["diverged"] = True
        else:
            # logits, not sigmoids, as scores: the same order, without float32 saturation ties at 1
            auc = sweepd.multilabel_auc(data.val.labels, scores_t.numpy(), data.classes)
            metrics.update(auc.metrics())
            notes.update(auc.notes())
            if stats is not None:
                layers = stats.collect()
                notes["diagnostics_seconds"] = stats.last_seconds
                if epoch == 1:  # the units measured before training: sweepd tells them from units epoch 1 killed
                    notes.update(stats.start_notes())
        metrics["epoch_seconds"] = time.perf_counter() - started
        sweepd.report(epoch, metrics, layers=layers, notes=notes)
        log(f"epoch {epoch}: train_loss {train_loss:.4f} val_loss {val_loss:.4f} val_auc_macro {metrics.get('val_auc_macro', float('nan')):.4f} ({train_seconds:.2f} s train, {seen / train_seconds:.0f} img/s)")
        if diverged:
            log("loss is not finite: stopping")
            break
        if sweepd.should_stop():
            log(f"sweepd asked to stop: {sweepd.stop_reason()}")
            break
    if flags.save_checkpoint:
        # written beside, then renamed: a stop signal during a long save must not leave half a file
        # where a good checkpoint was
        partial = f"{flags.save_checkpoint}.partial"
        torch.save(backbone.model.state_dict(), partial)
        os.replace(partial, flags.save_checkpoint)
        log(f"saved the model's weights to {flags.save_checkpoint}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

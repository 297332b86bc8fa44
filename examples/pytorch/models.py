"""Backbones for finetune.py, each cut into "blocks" that --frozen_layers counts from the input.

What a block is, per model:

- ``tiny_resnet`` (built in, for the CPU): 5 blocks — the stem (conv-BN-ReLU) and four residual
  blocks (two 3×3 conv-BN-ReLU with a shortcut), widths 16, 16, 32, 64, 64. The classifier is the
  head, never frozen.
- ``tiny_wide_resnet`` (built in, for the CPU; the seed-story testbed's backbone): 7 blocks — the
  same stem and blocks at twice the width (32, 32, 64, 128, 128) and two more 128-wide blocks at
  8×8, so that most of its convolutions, like InceptionV4's, are wide with a large fan-in (≈1.2 M
  parameters; about 1 s per epoch of 1024 images at 32×32 on one CPU thread).
- timm models with a ``features`` sequence (``inception_v4``: 22 blocks — the stem convolutions,
  then Mixed_3a … Mixed_5a, 4× Inception-A, Reduction-A, 7× Inception-B, Reduction-B, 3× Inception-C):
  each element of ``model.features``.
- torchvision ResNets (``resnet18`` …): 5 blocks — the stem (conv1, bn1, relu, maxpool), layer1 … layer4.
- Any other timm or torchvision model: each top-level child module that holds parameters, in
  registration order, except the classifier (for ``inception_resnet_v2``: conv2d_1a … conv2d_7b).

A frozen block keeps its weights (requires_grad off) and runs in eval mode, so its BatchNorm uses
the pretrained running statistics. ``frozen_layers`` equal to the number of blocks trains the
classifier only (head-only).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, List, Optional, Sequence

import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3×3 conv-BN layers with a residual shortcut; ReLUs as modules so their outputs can be probed."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = (
            nn.Identity() if stride == 1 and cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        )
        self.relu2 = nn.ReLU(inplace=True)

    def forward(self, x):
        h = self.relu1(self.bn1(self.conv1(x)))
        return self.relu2(self.bn2(self.conv2(h)) + self.shortcut(x))


class TinyResNet(nn.Module):
    """A small BatchNorm ResNet (a stride-2 stem, then residual blocks at 1×, 2× and 4× the width)
    that trains in seconds per epoch on a CPU at 32×32. ``width`` 16 with no extra blocks is
    ``tiny_resnet`` (≈0.15 M parameters); ``extra_blocks`` adds stride-1 blocks at 4× the width."""

    def __init__(self, num_classes: int, width: int = 16, extra_blocks: int = 0):
        super().__init__()
        w = width
        blocks = OrderedDict(
            stem=nn.Sequential(nn.Conv2d(3, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)),
            block1=BasicBlock(w, w, 1),
            block2=BasicBlock(w, 2 * w, 2),
            block3=BasicBlock(2 * w, 4 * w, 2),
            block4=BasicBlock(4 * w, 4 * w, 1),
        )
        for i in range(extra_blocks):
            blocks[f"block{5 + i}"] = BasicBlock(4 * w, 4 * w, 1)
        self.features = nn.Sequential(blocks)
        self.global_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(4 * w, num_classes)

    def forward_features(self, x):
        return self.features(x)

    def forward_head(self, x, pre_logits: bool = False):
        x = self.global_pool(x)
        return x if pre_logits else self.fc(x)

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


class Backbone:
    """A model with its blocks, and — where the forward pass is a plain chain of them — the ability
    to run any prefix of blocks and the rest separately (what feature caching needs)."""

    def __init__(self, name: str, model: nn.Module, blocks: List[nn.Module], classifier: nn.Module,
                 pool: Optional[Callable] = None, pre_logits: Optional[Callable] = None):
        self.name = name
        self.model = model
        self.blocks = blocks
        self.classifier = classifier
        self._pool = pool  # set when model(x) == classifier(pool(blocks[-1](…blocks[0](x))))
        self._pre_logits = pre_logits  # x → pooled features before the classifier

    @property
    def chained(self) -> bool:
        return self._pool is not None

    def can_split(self, depth: int) -> bool:
        """Whether the first ``depth`` blocks can run on their own (to cache their output)."""
        n = len(self.blocks)
        return 0 < depth <= n and (self.chained or (depth == n and self._pre_logits is not None))

    def prefix(self, x: torch.Tensor, depth: int) -> torch.Tensor:
        """The output of the first ``depth`` blocks (the pooled features when depth is all of them)."""
        if depth == len(self.blocks) and not self.chained:
            return self._pre_logits(x)
        for block in self.blocks[:depth]:
            x = block(x)
        return self._pool(x) if depth == len(self.blocks) else x

    def suffix(self, h: torch.Tensor, depth: int) -> torch.Tensor:
        """Logits from a prefix output."""
        if depth < len(self.blocks):
            for block in self.blocks[depth:]:
                h = block(h)
            h = self._pool(h)
        return self.classifier(h)


#: The built-in CPU models: name → TinyResNet's width and extra blocks.
TINY = {"tiny_resnet": (16, 0), "tiny_wide_resnet": (32, 2)}


def _tiny(name: str, num_classes: int) -> Backbone:
    width, extra = TINY[name]
    m = TinyResNet(num_classes, width, extra)
    return Backbone(name, m, list(m.features), m.fc, pool=m.global_pool)


_IMPORT_ERRORS: List[str] = []


def _from_timm(name: str, num_classes: int) -> Optional[Backbone]:
    try:
        import timm
    except Exception as e:  # not installed, or broken (a torchvision that does not match torch)
        _IMPORT_ERRORS.append(f"timm: {type(e).__name__}: {e}")
        return None
    if name not in timm.list_models():
        return None
    m = timm.create_model(name, pretrained=False, num_classes=num_classes)
    classifier = m.get_classifier()
    pre_logits = lambda x: m.forward_head(m.forward_features(x), pre_logits=True)  # noqa: E731
    features = getattr(m, "features", None)
    if isinstance(features, nn.Sequential) and hasattr(m, "forward_head"):
        # forward = forward_head(features(x)); forward_head = pool, dropout, classifier
        return Backbone(name, m, list(features), classifier, pool=lambda x: m.forward_head(x, pre_logits=True), pre_logits=pre_logits)
    blocks = [c for c in m.children() if c is not classifier and any(True for _ in c.parameters())]
    return Backbone(name, m, blocks, classifier, pre_logits=pre_logits)


def _from_torchvision(name: str, num_classes: int) -> Optional[Backbone]:
    try:
        import torchvision
    except Exception as e:
        _IMPORT_ERRORS.append(f"torchvision: {type(e).__name__}: {e}")
        return None
    try:
        m = torchvision.models.get_model(name, weights=None, num_classes=num_classes)
    except ValueError:
        return None
    if all(hasattr(m, a) for a in ("conv1", "bn1", "relu", "maxpool", "layer4", "avgpool", "fc")):
        stem = nn.Sequential(m.conv1, m.bn1, m.relu, m.maxpool)
        pool = lambda x: torch.flatten(m.avgpool(x), 1)  # noqa: E731
        return Backbone(name, m, [stem, m.layer1, m.layer2, m.layer3, m.layer4], m.fc, pool=pool)
    children = [c for c in m.children() if any(True for _ in c.parameters())]
    return Backbone(name, m, children[:-1], children[-1])


def build_backbone(name: str, num_classes: int) -> Backbone:
    """``tiny_resnet`` / ``tiny_wide_resnet``, a timm model name, or a torchvision model name (tried in that order)."""
    if name in TINY:
        return _tiny(name, num_classes)
    for make in (_from_timm, _from_torchvision):
        b = make(name, num_classes)
        if b is not None:
            return b
    why = f" (cannot import {'; '.join(_IMPORT_ERRORS)})" if _IMPORT_ERRORS else ""
    raise ValueError(f"--model={name}: not tiny_resnet or tiny_wide_resnet, and neither timm nor torchvision knows it{why}")


def load_checkpoint(model: nn.Module, path: str, exclude_scopes: Sequence[str] = ()) -> dict:
    """Loads pretrained weights from a file (a state_dict, or a dict holding one under 'state_dict'
    or 'model'). Tensors whose shape differs from the model's (the old classifier) are skipped, and
    so are those whose name is a scope in ``exclude_scopes`` or lies under one (TF-slim's
    --checkpoint_exclude_scopes: ``fc`` gives a new, randomly initialised head even when the old one
    has the right shape); returns what was loaded, skipped and missing, for the log."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    own = model.state_dict()
    excluded = lambda k: any(k == s or k.startswith(s.rstrip(".") + ".") for s in exclude_scopes)  # noqa: E731
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape and not excluded(k)}
    skipped = sorted(k for k in state if k not in usable)
    result = model.load_state_dict(usable, strict=False)
    if not usable:
        raise ValueError(f"--checkpoint_path={path}: none of its {len(state)} tensors matches the model's names and shapes")
    return {"loaded": len(usable), "skipped": skipped, "missing": sorted(result.missing_keys)}

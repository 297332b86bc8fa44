"""Optimizers and learning-rate schedules with TF-slim's names and semantics."""

from __future__ import annotations

import math
from typing import Iterable

import torch


class RMSpropTF1(torch.optim.Optimizer):
    """RMSProp as TensorFlow 1 (and so TF-slim's train_image_classifier.py) computes it.

    Differs from torch.optim.RMSprop in two ways that matter early in fine-tuning: the mean square
    starts at 1 (not 0), and epsilon sits inside the square root. Per step, with g the gradient
    (plus weight_decay·w, as TF-slim's L2 regularizer adds):

        ms  = decay·ms + (1 − decay)·g²
        mom = momentum·mom + lr·g / sqrt(ms + eps)
        w   = w − mom
    """

    def __init__(self, params: Iterable, lr: float, decay: float = 0.9, momentum: float = 0.0, eps: float = 1e-10, weight_decay: float = 0.0):
        if lr < 0 or not 0 <= decay < 1 or momentum < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(f"RMSpropTF1: bad settings lr={lr} decay={decay} momentum={momentum} eps={eps} weight_decay={weight_decay}")
        super().__init__(params, dict(lr=lr, decay=decay, momentum=momentum, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, decay, momentum, eps, wd = group["lr"], group["decay"], group["momentum"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if wd:
                    g = g.add(p, alpha=wd)
                state = self.state[p]
                if not state:
                    state["ms"] = torch.ones_like(p)  # TF1: the mean square starts at one
                    state["mom"] = torch.zeros_like(p)
                ms, mom = state["ms"], state["mom"]
                ms.mul_(decay).addcmul_(g, g, value=1 - decay)
                mom.mul_(momentum).addcdiv_(g, ms.add(eps).sqrt_(), value=lr)
                p.sub_(mom)
        return loss


OPTIMIZERS = ("sgd", "momentum", "rmsprop", "rmsprop_tf1", "adam")


def build_optimizer(name: str, param_groups: list, flags) -> torch.optim.Optimizer:
    """TF-slim's optimizer flags: momentum, rmsprop_momentum, rmsprop_decay, opt_epsilon, adam_beta1/2.

    Weight decay is TF-slim's L2 regularizer on kernels (the gradient gains weight_decay·w): it is set
    per parameter group by the caller, coupled as torch's weight_decay is.
    """
    lr = flags.learning_rate
    if name == "rmsprop" and flags.rmsprop_tf1:
        name = "rmsprop_tf1"
    if name == "sgd":
        return torch.optim.SGD(param_groups, lr=lr)
    if name == "momentum":
        # TF's MomentumOptimizer: accum = momentum·accum + g; w −= lr·accum (torch's SGD, no dampening)
        return torch.optim.SGD(param_groups, lr=lr, momentum=flags.momentum)
    if name == "rmsprop":
        return torch.optim.RMSprop(param_groups, lr=lr, alpha=flags.rmsprop_decay, eps=flags.opt_epsilon, momentum=flags.rmsprop_momentum)
    if name == "rmsprop_tf1":
        return RMSpropTF1(param_groups, lr=lr, decay=flags.rmsprop_decay, momentum=flags.rmsprop_momentum, eps=flags.opt_epsilon)
    if name == "adam":
        # torch adds eps to the bias-corrected root; TF1's Adam adds it before the correction. Equal for small eps.
        return torch.optim.Adam(param_groups, lr=lr, betas=(flags.adam_beta1, flags.adam_beta2), eps=flags.opt_epsilon)
    raise ValueError(f"--optimizer={name}: not one of {', '.join(OPTIMIZERS)}")


def learning_rate_at(step: int, steps_per_epoch: int, flags) -> float:
    """TF-slim's _configure_learning_rate: decay_steps = steps per epoch × num_epochs_per_decay.

    exponential: lr · factor^floor(step / decay_steps) (staircase, as TF-slim); fixed: lr;
    polynomial: linear from lr to end_learning_rate over decay_steps, then end_learning_rate.
    """
    decay_steps = max(1, int(steps_per_epoch * flags.num_epochs_per_decay))
    kind = flags.learning_rate_decay_type
    if kind == "exponential":
        return flags.learning_rate * flags.learning_rate_decay_factor ** math.floor(step / decay_steps)
    if kind == "fixed":
        return flags.learning_rate
    if kind == "polynomial":
        t = min(step, decay_steps) / decay_steps
        return (flags.learning_rate - flags.end_learning_rate) * (1 - t) + flags.end_learning_rate
    raise ValueError(f"--learning_rate_decay_type={kind}: not one of exponential, fixed, polynomial")

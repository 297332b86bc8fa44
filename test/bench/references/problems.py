"""The benchmark problems of test/bench/search.ts, for the Optuna side (same definitions).

branin (2-D) and hartmann6 (6-D) are the standard test functions; lr_auc is a synthetic fine-tuning
response over the learning rate (log scale), the optimizer (categorical) and the frozen layers
(int), with Gaussian noise of sd 0.005 drawn by np.random.default_rng(10000 + seed).
"""
import math

import numpy as np

OPTS = ["sgd", "momentum", "rmsprop", "adam"]
LR_CENTER = {"sgd": -2.0, "momentum": -2.5, "rmsprop": -3.0, "adam": -4.0}
LR_PEAK = {"sgd": 0.935, "momentum": 0.940, "rmsprop": 0.945, "adam": 0.950}
LR_WIDTH = 0.8
FROZEN_BEST, FROZEN_PEN = 6, 0.002
NOISE_SD = 0.005
LR_FMAX = 0.950
BRANIN_MIN = 0.397887
H6_MIN = -3.32237

H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                 [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                        [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def lr_auc_true(lr, opt, frozen):
    z = (math.log10(lr) - LR_CENTER[opt]) / LR_WIDTH
    return 0.5 + (LR_PEAK[opt] - 0.5) * math.exp(-0.5 * z * z) - FROZEN_PEN * (frozen - FROZEN_BEST) ** 2


def branin(x1, x2):
    a, b, c, r, s, t = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


def hartmann6(x):
    x = np.asarray(x)
    return float(-np.sum(H6_ALPHA * np.exp(-np.sum(H6_A * (x - H6_P) ** 2, axis=1))))


def suggest_lr_auc(trial):
    """The lr_auc space, suggested in this order: lr, optimizer, frozen."""
    lr = trial.suggest_float("lr", 1e-8, 1e-1, log=True)
    opt = trial.suggest_categorical("optimizer", OPTS)
    frozen = trial.suggest_int("frozen", 0, 10)
    return lr, opt, frozen


def pct(a):
    """numpy's percentiles (linear interpolation), as test/bench/search.ts's quartiles()."""
    a = np.asarray(a)
    return {"p25": float(np.percentile(a, 25)), "median": float(np.median(a)), "p75": float(np.percentile(a, 75))}

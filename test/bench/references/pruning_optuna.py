#!/usr/bin/python3
"""Optuna's pruners on the pruning benchmark's learning-curve problems (test/bench/pruning.ts).

    /usr/bin/python3 test/bench/references/pruning_optuna.py --seeds 20 --problems lr_auc,power_law \
        --pruners nop,median,sha,hyperband --procs 2 > out.json

Per problem, pruner and seed: a sequential Optuna study (TPESampler(seed), the pruner with its
defaults) of 50 trials x up to 20 epochs; each epoch's value is the problem's noise-free curve
plus N(0, noise^2) from np.random.default_rng(20000 + seed) (the same draws for every pruner),
reported as step = epoch, and should_prune() is asked after every epoch but
the last. Figures per run: epochs spent, the best observed epoch-20 value among completed
trials, and that trial's noise-free epoch-20 value. The problems are defined exactly as in
test/bench/pruning-problems.ts; `probes` holds noise-free values the TS side checks against.
Writes one JSON object to stdout.
"""
import argparse
import json
import math
import multiprocessing as mp
import sys
import time
import warnings

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

N_TRIALS, N_EPOCHS = 50, 20
OPTS = ["sgd", "momentum", "rmsprop", "adam"]


def response(center, peak, width, frozen_best, frozen_pen):
    def f(lr, opt, frozen):
        z = (math.log10(lr) - center[opt]) / width
        return 0.5 + (peak[opt] - 0.5) * math.exp(-0.5 * z * z) - frozen_pen * (frozen - frozen_best) ** 2
    return f


def time_constant(base, pivot, exponent, lo, hi):
    return lambda lr: min(hi, max(lo, base * 10 ** (exponent * (pivot - math.log10(lr)))))


def softplus(x):
    return x if x > 30 else math.log1p(math.exp(x))


lr_auc_final = response({"sgd": -2.0, "momentum": -2.5, "rmsprop": -3.0, "adam": -4.0},
                        {"sgd": 0.935, "momentum": 0.940, "rmsprop": 0.945, "adam": 0.950}, 0.8, 6, 0.002)
lr_auc_tau = time_constant(2.0, -3.0, 0.5, 0.5, 50.0)
power_final = response({"sgd": -1.5, "momentum": -2.2, "rmsprop": -3.6, "adam": -3.2},
                       {"sgd": 0.945, "momentum": 0.952, "rmsprop": 0.938, "adam": 0.946}, 0.7, 3, 0.0015)
power_tau = time_constant(1.5, -2.5, 0.4, 0.3, 40)
bloom_final = response({"sgd": -2.5, "momentum": -3.0, "rmsprop": -3.5, "adam": -4.2},
                       {"sgd": 0.93, "momentum": 0.935, "rmsprop": 0.94, "adam": 0.948}, 0.8, 5, 0.002)
bloom_tau = time_constant(3, -3, 0.5, 0.5, 50)
BLOOM_DELAY = {"sgd": 0, "momentum": 0, "rmsprop": 1, "adam": 4}
BLOOM_SPEED = {"sgd": 1, "momentum": 1, "rmsprop": 1, "adam": 0.35}
BLOOM_FAST_PENALTY = 0.02
loss_final = response({"sgd": -1.8, "momentum": -2.8, "rmsprop": -3.3, "adam": -3.8},
                      {"sgd": 0.942, "momentum": 0.948, "rmsprop": 0.94, "adam": 0.944}, 0.9, 8, 0.002)
loss_tau = time_constant(2.5, -2.5, 0.5, 0.5, 50)
LOSS_START = 0.69


def lr_auc(lr, opt, fr, t):
    final = lr_auc_final(lr, opt, fr)
    return final - (final - 0.5) * math.exp(-t / lr_auc_tau(lr))


def power_law(lr, opt, fr, t):
    final = power_final(lr, opt, fr)
    return final - (final - 0.5) * (1 + t / power_tau(lr)) ** -1.2


def late_bloom(lr, opt, fr, t):
    fast = max(0.0, math.log10(lr) + 3.5)
    final = bloom_final(lr, opt, fr) - BLOOM_FAST_PENALTY * fast
    progress = softplus(t - BLOOM_DELAY[opt]) - softplus(-BLOOM_DELAY[opt])
    return final - (final - 0.5) * math.exp(-progress / (bloom_tau(lr) * BLOOM_SPEED[opt]))


def noisy_loss(lr, opt, fr, t):
    final = LOSS_START - (loss_final(lr, opt, fr) - 0.5)
    return final + (LOSS_START - final) * math.exp(-t / loss_tau(lr))


# name: (noise-free curve, noise sd, direction)
PROBLEMS = {"lr_auc": (lr_auc, 0.005, "maximize"), "power_law": (power_law, 0.005, "maximize"),
            "late_bloom": (late_bloom, 0.008, "maximize"), "noisy_loss": (noisy_loss, 0.012, "minimize")}
PROBES = [({"lr": 1e-3, "optimizer": "rmsprop", "frozen": 6}, 1), ({"lr": 1e-4, "optimizer": "adam", "frozen": 6}, 5),
          ({"lr": 3e-2, "optimizer": "sgd", "frozen": 2}, 20), ({"lr": 6e-3, "optimizer": "momentum", "frozen": 9}, 3),
          ({"lr": 2e-5, "optimizer": "adam", "frozen": 0}, 12), ({"lr": 1e-7, "optimizer": "sgd", "frozen": 10}, 20)]


def make_pruner(name):
    return {"median": optuna.pruners.MedianPruner, "sha": optuna.pruners.SuccessiveHalvingPruner,
            "hyperband": optuna.pruners.HyperbandPruner, "nop": optuna.pruners.NopPruner}[name]()


def run(args):
    problem, pname, seed = args
    curve, noise, direction = PROBLEMS[problem]
    sign = 1 if direction == "maximize" else -1
    rng = np.random.default_rng(20_000 + seed)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed), pruner=make_pruner(pname),
                                direction=direction)
    epochs, n_pruned = 0, 0
    best = None  # (observed final, noise-free final)
    for _ in range(N_TRIALS):
        trial = study.ask()
        lr = trial.suggest_float("lr", 1e-8, 1e-1, log=True)
        opt = trial.suggest_categorical("optimizer", OPTS)
        fr = trial.suggest_int("frozen", 0, 10)
        pruned = False
        for ep in range(1, N_EPOCHS + 1):
            v = curve(lr, opt, fr, ep) + rng.normal(0, noise)
            epochs += 1
            trial.report(v, ep)
            if ep < N_EPOCHS and trial.should_prune():
                pruned = True
                break
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            n_pruned += 1
        else:
            study.tell(trial, v)
            if best is None or sign * v > sign * best[0]:
                best = (v, curve(lr, opt, fr, N_EPOCHS))
    return {"problem": problem, "pruner": pname, "seed": seed, "epochs": epochs, "best_obs_final": best[0],
            "best_true_final": best[1], "n_pruned": n_pruned}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--pruners", default="nop,median,sha,hyperband")
    ap.add_argument("--procs", type=int, default=2)
    a = ap.parse_args()
    problems = a.problems.split(",")
    for p in problems:
        if p not in PROBLEMS:
            sys.exit(f"unknown problem {p!r} (known: {', '.join(PROBLEMS)})")
    tasks = [(p, pr, s) for p in problems for pr in a.pruners.split(",") for s in range(a.first_seed, a.first_seed + a.seeds)]
    t0 = time.time()
    with mp.Pool(a.procs) as pool:
        runs = pool.map(run, tasks, chunksize=1)
    probes = {p: [PROBLEMS[p][0](pr["lr"], pr["optimizer"], pr["frozen"], ep) for pr, ep in PROBES] for p in problems}
    json.dump({"optuna": optuna.__version__, "wall_s": time.time() - t0, "n_trials": N_TRIALS, "n_epochs": N_EPOCHS,
               "probes": probes, "runs": runs}, sys.stdout)


if __name__ == "__main__":
    main()

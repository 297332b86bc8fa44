"""Optuna's side of test/bench/search.ts; JSON on stdout.

  optuna_search.py efficiency N_SEEDS [K]  regret of random, TPE and multivariate TPE on the problems
                                           (and, with K, also over the first K seeds alone)
  optuna_search.py latency HISTORY SIZES R  wall time of ask + 3 suggests on a given lr_auc history
  optuna_search.py noise N_SEEDS N_TRIALS   the lr_auc noise draws, for the sweepd side to add
"""
import json
import multiprocessing as mp
import os
import sys
import time
import warnings

import numpy as np
import optuna

from problems import (BRANIN_MIN, H6_MIN, LR_FMAX, NOISE_SD, branin, hartmann6, lr_auc_true, pct,
                      suggest_lr_auc)

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

SAMPLERS = ["random", "tpe", "tpe_mv"]


def make_sampler(name, seed):
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "tpe_mv":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r}")


def eff_run(args):
    fname, sname, seed, n = args
    study = optuna.create_study(sampler=make_sampler(sname, seed),
                                direction="maximize" if fname == "lr_auc" else "minimize")
    rng = np.random.default_rng(10_000 + seed)
    trace_true = []
    best_obs, best_true = None, None
    for _ in range(n):
        trial = study.ask()
        if fname == "branin":
            v = tv = branin(trial.suggest_float("x1", -5, 10), trial.suggest_float("x2", 0, 15))
        elif fname == "hartmann6":
            v = tv = hartmann6([trial.suggest_float(f"x{j}", 0, 1) for j in range(6)])
        else:
            tv = lr_auc_true(*suggest_lr_auc(trial))
            v = tv + rng.normal(0, NOISE_SD)
        study.tell(trial, v)
        better = best_obs is None or (v > best_obs if fname == "lr_auc" else v < best_obs)
        if better:
            best_obs, best_true = v, tv  # the incumbent is the best *observed* trial
        trace_true.append(best_true)
    return fname, sname, seed, trace_true


def efficiency(n_seeds, n_first=None):
    problems = {"branin": (50, [10, 25, 50], BRANIN_MIN, 1), "hartmann6": (100, [10, 25, 50, 100], H6_MIN, 1),
                "lr_auc": (50, [10, 25, 50], LR_FMAX, -1)}
    tasks = [(f, s, seed, problems[f][0]) for f in problems for s in SAMPLERS for seed in range(n_seeds)]
    t0 = time.perf_counter()
    # Two processes: the seeds are independent and the machines this runs on have at least two cores.
    with mp.Pool(min(2, os.cpu_count() or 1)) as pool:
        runs = pool.map(eff_run, tasks, chunksize=1)
    def summarise(seeds):
        summary = {}
        for f, (_, cps, best, sign) in problems.items():
            for s in SAMPLERS:
                sel = [r for r in runs if r[0] == f and r[1] == s and r[2] < seeds]
                summary.setdefault(f, {})[s] = {str(cp): pct([sign * (r[3][cp - 1] - best) for r in sel]) for cp in cps}
        return summary

    out = {"n_seeds": n_seeds, "wall_s": time.perf_counter() - t0, "summary": summarise(n_seeds)}
    if n_first is not None:
        out["summary_first"] = summarise(n_first)
    return out


def latency(history_path, sizes, repeats):
    """Median wall ms of ask + 3 suggests with the first h trials of the given history told."""
    with open(history_path) as f:
        history = json.load(f)
    dists = {"lr": optuna.distributions.FloatDistribution(1e-8, 1e-1, log=True),
             "optimizer": optuna.distributions.CategoricalDistribution(["sgd", "momentum", "rmsprop", "adam"]),
             "frozen": optuna.distributions.IntDistribution(0, 10)}
    trials = [optuna.trial.create_trial(params=t["params"], distributions=dists, value=t["value"]) for t in history]
    out = {}
    for name in SAMPLERS:
        out[name] = {}
        for h in sizes:
            study = optuna.create_study(sampler=make_sampler(name, 0), direction="maximize")
            # Histories of h − repeats + 1 … h told trials, as on the sweepd side; the asked trials stay
            # running, which TPE without constant_liar ignores, so each ask sees exactly the told ones.
            study.add_trials(trials[:h - repeats + 1])
            # One untimed ask first, as on the sweepd side (it stays running: TPE ignores it).
            suggest_lr_auc(study.ask())
            times = []
            for r in range(repeats):
                t0 = time.perf_counter()
                trial = study.ask()
                suggest_lr_auc(trial)
                times.append(time.perf_counter() - t0)
                if r < repeats - 1:
                    study.add_trial(trials[h - repeats + 1 + r])
            out[name][str(h)] = float(np.median(times)) * 1e3
    return out


def noise(n_seeds, n_trials):
    return [[float(v) for v in np.random.default_rng(10_000 + s).normal(0, NOISE_SD, n_trials)] for s in range(n_seeds)]


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "efficiency":
        result = efficiency(int(args[0]), int(args[1]) if len(args) > 1 else None)
    elif cmd == "latency":
        result = latency(args[0], [int(x) for x in args[1].split(",")], int(args[2]))
    elif cmd == "noise":
        result = noise(int(args[0]), int(args[1]))
    else:
        raise SystemExit(f"unknown command {cmd!r}: efficiency | latency | noise")
    json.dump(result, sys.stdout)

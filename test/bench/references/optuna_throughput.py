"""Optuna's side of test/bench/e2e-throughput.ts: trials per second with PostgreSQL storage.

  optuna_throughput.py URL SAMPLER N_TRIALS N_PROCS EPOCHS   -> JSON on stdout

N_PROCS processes share one study in the PostgreSQL database at URL (Optuna's way to run trials in
parallel), each running N_TRIALS / N_PROCS trials. A trial does what sweepd's `noop` runner does:
suggests a learning rate (log scale) and an optimizer, reports EPOCHS intermediate values (stored
by Optuna as sweepd stores epoch reports) and returns its value; nothing is trained.
"""
import json
import math
import multiprocessing as mp
import sys
import time
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def make_sampler(name, seed):
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r}")


def objective(epochs):
    def run(trial):
        lr = trial.suggest_float("learning_rate", 1e-6, 1e-1, log=True)
        opt = trial.suggest_categorical("optimizer", ["sgd", "adam"])
        value = 0.5
        for epoch in range(1, epochs + 1):
            value = 0.5 + 0.4 * math.exp(-abs(math.log10(lr) + 3)) * (1 if opt == "adam" else 0.95) * epoch / epochs
            trial.report(value, epoch)
        return value
    return run


def worker(url, study_name, sampler, seed, n, epochs, start):
    study = optuna.load_study(study_name=study_name, storage=url, sampler=make_sampler(sampler, seed))
    start.wait()
    study.optimize(objective(epochs), n_trials=n)


def main(url, sampler, n_trials, n_procs, epochs):
    name = f"throughput_{sampler}_{int(time.time() * 1000)}"
    optuna.create_study(study_name=name, storage=url, direction="maximize")
    ctx = mp.get_context("fork")
    start = ctx.Event()
    share = [n_trials // n_procs + (1 if i < n_trials % n_procs else 0) for i in range(n_procs)]
    procs = [ctx.Process(target=worker, args=(url, name, sampler, i, share[i], epochs, start)) for i in range(n_procs)]
    for p in procs:
        p.start()
    time.sleep(0.5)  # every process connected and waiting: the clock starts with the first trial
    t0 = time.perf_counter()
    start.set()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"an Optuna worker process exited with {p.exitcode}")
    seconds = time.perf_counter() - t0
    study = optuna.load_study(study_name=name, storage=url)
    trials = study.get_trials(deepcopy=False)
    done = sum(1 for t in trials if t.state == optuna.trial.TrialState.COMPLETE)
    reports = sum(len(t.intermediate_values) for t in trials)
    if done != n_trials or reports != n_trials * epochs:
        raise SystemExit(f"Optuna lost work: {done} of {n_trials} trials, {reports} of {n_trials * epochs} reports")
    json.dump({"sampler": sampler, "processes": n_procs, "trials": done, "epochs": reports, "seconds": seconds,
               "trials_per_s": done / seconds, "epoch_reports_per_s": reports / seconds,
               "optuna": optuna.__version__}, sys.stdout)


if __name__ == "__main__":
    url, sampler, n_trials, n_procs, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    main(url, sampler, n_trials, n_procs, epochs)

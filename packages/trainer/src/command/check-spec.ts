import path from 'node:path';
import type { RunnerCheckContext, SearchSpec, SpecProblem } from '@sweepd/core';
import { TagMap } from '../tensorboard/tag-map.ts';
import { placeholdersIn } from './argv.ts';
import { CODE_FLAGS, missingFiles, SCRIPT_FILE } from './check-files.ts';
import { parseCommandOptions, salvageCommandOptions } from './options.ts';

/**
 * Every problem the command runner can see in a spec before any trial runs: its options,
 * placeholders that no trial could fill, and (where the workers see the daemon's files) a working
 * directory, program or script that is not there. Parameter names are free for this runner.
 */
export function checkCommandSpec(spec: SearchSpec, ctx: RunnerCheckContext = {}): SpecProblem[] {
  // Said whatever the options' own problems: every problem comes in one answer.
  const unused: SpecProblem[] = [];
  for (const name of ['model', 'dataset'] as const) {
    if (spec.trainer[name] !== undefined)
      unused.push({
        path: `trainer.${name}`,
        message: `is not used by the command runner: pass it to your script in trainer.options.command or fixed`,
      });
  }
  const parsed = parseCommandOptions(spec.trainer.options);
  // With a problem in one option, the others are still checked.
  const salvaged =
    'problems' in parsed
      ? salvageCommandOptions(spec.trainer.options, parsed.problems)
      : { options: parsed.options, dropped: new Set<string>() };
  const problems: SpecProblem[] = 'problems' in parsed ? [...parsed.problems] : [];
  if (!salvaged) return [...problems, ...unused];
  const { options } = salvaged;
  // A working directory with a problem of its own says nothing of where the script is.
  const cwdKnown = !salvaged.dropped.has('cwd');
  const { command, args } = options;
  const known = new Set([...Object.keys(spec.space), ...Object.keys(spec.fixed), ...(ctx.unparsedParams ?? [])]);
  // An args with a problem of its own says nothing of how placeholders are meant.
  const argsKnown = !salvaged.dropped.has('args');
  (argsKnown ? command : []).forEach((arg, i) => {
    const path = `trainer.options.command.${i}`;
    for (const name of placeholdersIn(arg)) {
      if (args !== 'placeholders') {
        // A `{name}` that matches a parameter was surely meant as one; other braces are literal text.
        if (known.has(name)) problems.push({ path, message: `{${name}} is replaced only with args: placeholders (args is ${args})` });
      } else if (!known.has(name)) {
        problems.push({ path, message: `placeholder {${name}} names no parameter of space or fixed` });
      } else if (spec.space[name]?.when && !Object.hasOwn(spec.fixed, name)) {
        problems.push({
          path,
          message: `placeholder {${name}} names a conditional parameter (when) that some trials do not have; read it from the params file instead`,
        });
      }
    }
  });
  if (cwdKnown && options.cwd === undefined) problems.push(...relativeScripts(command));
  if (cwdKnown) problems.push(...missingFiles(options, ctx).filter((m) => !problems.some((p) => p.path === m.path)));
  const tb = options.tensorboard;
  if (tb) {
    // The collector reads every event file under dir: one outside the trial's own directory is
    // shared by every trial (and keeps earlier studies' files), whose values would be read as this one's.
    const normalized = path.posix.normalize(tb.dir.replaceAll('\\', '/'));
    if (path.isAbsolute(tb.dir) || normalized === '..' || normalized.startsWith('../'))
      problems.push({
        path: 'trainer.options.tensorboard.dir',
        message:
          `'${tb.dir}' is outside the trial's directory, so every trial would read every other trial's event files there: ` +
          'give a path relative to the trial directory (e.g. tb) and have the script write there ("$SWEEPD_TRIAL_DIR/tb")',
      });
    let tagMap: TagMap | undefined;
    try {
      tagMap = new TagMap(tb.tags);
    } catch (err) {
      problems.push({ path: 'trainer.options.tensorboard.tags', message: (err as Error).message });
    }
    if (tb.steps_per_epoch !== undefined && tb.epoch_metric !== undefined)
      problems.push({
        path: 'trainer.options.tensorboard.epoch_metric',
        message: 'is not read with steps_per_epoch, which alone says where epochs end: give one of them',
      });
    // Without steps_per_epoch only the epoch metric's steps end epochs: one no tag maps to ends none.
    if (tb.steps_per_epoch === undefined && tb.epoch_metric !== undefined && tagMap && !tagMap.canProduce(tb.epoch_metric))
      problems.push({
        path: 'trainer.options.tensorboard.epoch_metric',
        message: `'${tb.epoch_metric}' is not a metric of tensorboard.tags (${metricsOf(tb.tags)}): no epoch would ever end`,
      });
    const epochMetric = tb.epoch_metric ?? Object.values(tb.tags)[0] ?? '';
    if (tb.steps_per_epoch === undefined && epochMetric.includes('*'))
      problems.push({
        path: `trainer.options.tensorboard.${tb.epoch_metric === undefined ? 'tags' : 'epoch_metric'}`,
        message: `the epoch metric '${epochMetric}' is a pattern: name a metric in epoch_metric or give steps_per_epoch`,
      });
  }
  return [...problems, ...unused];
}

/**
 * What may well go wrong in a spec that passed checkCommandSpec (warnings: the study runs). With
 * TensorBoard event files:
 *   - an objective that no TensorBoard tag maps to: every trial fails unless the script also
 *     reports it itself, by report lines or the Python client, which cannot be known before it runs;
 *   - without steps_per_epoch or epoch_metric, a first tag that is not the objective: its steps end
 *     the epochs, and a training scalar written every few steps would make each of them an epoch;
 *   - a stopping rule that reads layer statistics event files cannot give.
 */
export function commandSpecWarnings(spec: SearchSpec): SpecProblem[] {
  const parsed = parseCommandOptions(spec.trainer.options);
  const tb = 'problems' in parsed ? undefined : parsed.options.tensorboard;
  if (!tb) return [];
  let tagMap: TagMap;
  try {
    tagMap = new TagMap(tb.tags);
  } catch {
    return [];
  }
  const { metric } = spec.objective;
  const warnings: SpecProblem[] = [];
  if (!tagMap.canProduce(metric))
    warnings.push({
      path: 'objective.metric',
      message:
        `'${metric}' is not a metric of trainer.options.tensorboard.tags (${metricsOf(tb.tags)}): ` +
        'unless the script reports it itself (report lines or the Python client), every trial fails for want of it; ' +
        `map the tag that holds it to '${metric}' or set objective.metric to one of those`,
    });
  const [firstTag, clock] = Object.entries(tb.tags)[0] ?? [];
  const clockUnset = tb.steps_per_epoch === undefined && tb.epoch_metric === undefined;
  // (Only where the objective is mapped: else the warning above is the one that matters.)
  if (clockUnset && clock !== undefined && clock !== metric && !clock.includes('*') && tagMap.canProduce(metric))
    warnings.push({
      path: 'trainer.options.tensorboard.tags',
      message:
        `the first entry (${firstTag} → ${clock}) is the epoch clock: each step at which '${clock}' is written ends an epoch. ` +
        'If it is written more often than once an epoch (a training loss every few steps), ' +
        // A pattern cannot be the clock: listed first, it would be refused.
        (tagMap.exactMetrics().includes(metric)
          ? `list the tag of '${metric}' first, set epoch_metric, or give steps_per_epoch`
          : `set epoch_metric to '${metric}' or give steps_per_epoch`),
    });
  spec.stopping.forEach((rule, i) => {
    const needs = RULES_EVENT_FILES_CANNOT_FEED[rule.name];
    if (needs)
      warnings.push({
        path: `stopping.${i}`,
        message:
          `${rule.name} acts on each layer's ${needs}, which event files never give (their weights are histograms only): ` +
          "it never fires unless the script also reports layer statistics itself (the Python client's LayerStats)",
      });
  });
  return warnings;
}

/** The metrics a tag map makes, each once, for a message: 'val_auc, loss'. */
function metricsOf(tags: Readonly<Record<string, string>>): string {
  return [...new Set(Object.values(tags))].join(', ');
}

/** Stopping rules that read a layer statistic the TensorBoard collector cannot make, and which. */
const RULES_EVENT_FILES_CANNOT_FEED: Readonly<Record<string, string>> = {
  'weight-stall': 'updateRatio (‖ΔW‖/‖W‖)',
  'dead-units': 'deadFraction (units zero on a whole probe batch)',
};

/**
 * Without `cwd` a trial runs in a fresh directory of its own that holds only its params file: a
 * relative path to a script can never be found there (`python3 train.py` fails in every trial).
 */
function relativeScripts(command: readonly string[]): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const fix =
    'each trial runs in a fresh directory of its own: set trainer.options.cwd to the directory that holds it, or give an absolute path';
  command.forEach((arg, i) => {
    if (arg.startsWith('/') || placeholdersIn(arg).length > 0 || (i > 0 && CODE_FLAGS.has(command[i - 1] as string))) return;
    const program = i === 0 && arg.includes('/');
    if (program || (i > 0 && !arg.startsWith('-') && SCRIPT_FILE.test(arg)))
      problems.push({ path: `trainer.options.command.${i}`, message: `'${arg}' is a relative path, and ${fix}` });
  });
  return problems;
}

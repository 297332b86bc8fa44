import type { SearchSpec, SpecProblem } from '@sweepd/core';
import { LR_CENTER } from './curves.ts';

const KNOWN = Object.keys(LR_CENTER);

/**
 * The values the lr_auc curve cannot take (lrAucParams refuses them at every epoch), found at
 * submit: an optimizer it does not model, or a learning rate that can be zero or negative. Each
 * would otherwise be a study whose trials fail one by one with the same reason.
 */
export function lrAucValueProblems(spec: SearchSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const optimizer = spec.space.optimizer;
  if (optimizer?.type === 'categorical') {
    const unknown = optimizer.choices.filter((c) => typeof c !== 'string' || !KNOWN.includes(c));
    if (unknown.length > 0) problems.push({ path: 'space.optimizer.choices', message: notModelled(unknown) });
  } else if (optimizer) {
    problems.push({ path: 'space.optimizer', message: `must be categorical for the lr_auc curve (choices among ${KNOWN.join(', ')})` });
  } else if (Object.hasOwn(spec.fixed, 'optimizer') && !KNOWN.includes(spec.fixed.optimizer as string)) {
    problems.push({ path: 'fixed.optimizer', message: notModelled([spec.fixed.optimizer]) });
  }
  for (const name of ['learning_rate', 'lr']) {
    const p = spec.space[name];
    if (p && p.type !== 'categorical' && !(p.low > 0))
      problems.push({ path: `space.${name}.low`, message: `must be > 0: the lr_auc curve takes positive learning rates only` });
    if (p?.type === 'categorical' && p.choices.some((c) => typeof c !== 'number' || !(c > 0)))
      problems.push({
        path: `space.${name}.choices`,
        message: `must all be positive numbers: the lr_auc curve takes positive learning rates only`,
      });
    if (!p && Object.hasOwn(spec.fixed, name) && !(typeof spec.fixed[name] === 'number' && (spec.fixed[name] as number) > 0))
      problems.push({ path: `fixed.${name}`, message: `must be a positive number: the lr_auc curve takes positive learning rates only` });
  }
  return problems;
}

function notModelled(values: readonly unknown[]): string {
  return `the lr_auc curve models ${KNOWN.join(', ')} only, not ${values.map((v) => JSON.stringify(v)).join(', ')}`;
}

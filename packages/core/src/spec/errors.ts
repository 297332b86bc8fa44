/** One problem found in a spec: where it is (dotted path) and what is wrong, in a plain sentence. */
export interface SpecProblem {
  path: string;
  message: string;
}

/** Thrown when a spec is invalid. Lists every problem, not just the first. */
export class SpecError extends Error {
  readonly problems: readonly SpecProblem[];

  constructor(problems: readonly SpecProblem[]) {
    super(`invalid spec:\n${problems.map((p) => `  ${p.path || '(root)'}: ${p.message}`).join('\n')}`);
    this.name = 'SpecError';
    this.problems = problems;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((k) => String(k)).join('.');
}

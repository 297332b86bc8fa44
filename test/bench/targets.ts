/** The targets a benchmark prints, judged in one place: printed PASS/FAIL, and any FAIL fails the benchmark. */
export interface Target {
  target: string;
  pass: boolean;
  detail: string;
}

export class TargetsMissed extends Error {}

/** Prints every target; throws naming the missed ones, so `npm run bench` exits non-zero. */
export function checkTargets(targets: readonly Target[], log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): void {
  if (targets.length === 0) throw new TargetsMissed('no target was judged: the benchmark measured nothing it could compare');
  log('\ntargets:');
  for (const t of targets) log(`${t.pass ? 'PASS' : 'FAIL'}  ${t.target}: ${t.detail}`);
  const missed = targets.filter((t) => !t.pass);
  if (missed.length > 0)
    throw new TargetsMissed(`${missed.length} of ${targets.length} targets missed: ${missed.map((t) => t.target).join('; ')}`);
}

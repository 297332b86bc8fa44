import { changeTexts, type StudyAnswer } from '../views/answer.ts';
import type { ApiClient } from './client.ts';
import { formatMetric } from './table.ts';

/**
 * The answer of a study as `sweepd watch` prints it when the study ends: the verdict (what to
 * change, by how much, or that nothing needs changing), the changes one per line, and the
 * diagnosis of the baseline (or of the best, when the spec names no baseline).
 */
export function answerText(answer: StudyAnswer, metric: string): string {
  const lines = [`answer: ${answer.verdict}`];
  if (answer.failures) lines.push(`  ${answer.failures}`);
  if (answer.changes.length > 0) {
    lines.push('  changes:');
    for (const c of answer.changes) {
      const { from, to } = changeTexts(c);
      lines.push(`    ${c.param}: ${from} → ${to}`);
    }
  }
  const b = answer.baseline;
  const subject = b
    ? {
        title: `your config (trial ${b.trial}, ${b.state}${b.value === null ? '' : `, ${metric} ${formatMetric(b.value)}`})`,
        diagnosis: b.diagnosis,
      }
    : answer.best && {
        title: `best (trial ${answer.best.trial}, ${metric} ${formatMetric(answer.best.value)})`,
        diagnosis: answer.best.diagnosis,
      };
  if (subject) {
    lines.push(`  ${subject.title}: ${subject.diagnosis.summary}`);
    for (const e of subject.diagnosis.evidence) lines.push(`    - ${e}`);
    if (subject.diagnosis.advice) lines.push(`    advice: ${subject.diagnosis.advice}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Reads a study's answer from the daemon; a failure to read it is said in one line, not thrown (the watch's result stands). */
export async function fetchAnswerText(api: ApiClient, id: string): Promise<string> {
  try {
    const study = await api.json<{ answer?: StudyAnswer; objective: { metric: string } }>('GET', `/v1/studies/${encodeURIComponent(id)}`);
    return study.answer ? answerText(study.answer, study.objective.metric) : '';
  } catch (err) {
    return `could not read the study's answer: ${err instanceof Error ? err.message : String(err)}\n`;
  }
}

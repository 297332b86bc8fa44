import { listSome } from '@sweepd/core';
import type { Diagnosis } from './diagnosis-types.ts';
import { learningRateOf } from './param-names.ts';
import type { HeldBackByChoice } from './peers.ts';
import { formatRate, rangeOf, rangeOfInts, val } from './words.ts';

/**
 * A trial whose clearly better peers (of its optimizer) all chose otherwise in something besides
 * the rate (heldBackByChoice): held back by that choice where a better trial at about its rate
 * changed nothing else, or where trials sharing its choice did no better at the better ones'
 * rates; else the study cannot tell the choice from the rate (or from the rest a twin changed).
 */
export function choiceVerdict(held: HeldBackByChoice, reached: string, evidence: string[], rate: number | undefined): Diagnosis {
  const { optimizer, name, own, better, best, twin, sameChoice } = held;
  const kind = optimizer === undefined ? 'trial' : `${optimizer} trial`;
  const values = [...new Set(better.map((p) => String(p.params[name])))];
  const chose =
    name === 'frozen_layers'
      ? `froze fewer layers (frozen_layers ${rangeOfInts(better.map((p) => p.params[name] as number))}) than this trial's ${own}`
      : `had ${name} ${listSome(values, 3)}, against this trial's ${own}`;
  const their = `every ${kind} that did clearly better (${better.length === 1 ? 'one' : better.length}, up to ${val(best.value as number)}) ${chose}`;
  if (twin) {
    const at = `trial ${twin.peer.number} (${val(twin.peer.value as number)}) did so at about this learning rate (${formatRate(learningRateOf(twin.peer) as number)})`;
    if (twin.differs.length === 1)
      return {
        verdict: 'no-learning',
        summary: `Held back by ${name}, not the learning rate: ${reached}; ${their}, and ${at}.`,
        evidence,
        advice: `Try ${name}=${String(twin.peer.params[name])}, as trial ${twin.peer.number} did at this rate.`,
      };
    const changed = twin.differs.map((k) => `${k}=${String(twin.peer.params[k])}`).join(', ');
    return {
      verdict: 'no-learning',
      summary: `Not the learning rate: ${reached}; ${their}, and ${at}, changing ${twin.differs.join(', ')} too.`,
      evidence,
      advice: `Try trial ${twin.peer.number}'s settings (${changed}); to tell which of them matters, change one at a time.`,
    };
  }
  const copy = `${name}=${String(best.params[name])}`;
  if (sameChoice.length > 0) {
    const rates = sameChoice.map(learningRateOf).filter((r): r is number => r !== undefined);
    const at = ` (learning rate${rates.length === 1 ? '' : 's'} ${rangeOf(rates)})`;
    const others =
      sameChoice.length === 1
        ? `the one ${kind} with ${name}=${own} at rates like theirs${at} did not do clearly better either`
        : `none of the ${sameChoice.length} ${kind}s with ${name}=${own} at rates like theirs${at} did clearly better`;
    return {
      verdict: 'no-learning',
      summary: `Held back by ${name}, not the learning rate: ${reached}; ${their}, and ${others}.`,
      evidence,
      advice: `Try ${copy}, as trial ${best.number} (${val(best.value as number)}) did.`,
    };
  }
  return {
    verdict: 'no-learning',
    summary:
      `Not learning, and this study cannot tell why: ${reached}; ${their}, and no other ${kind} with ${name}=${own} ran at ` +
      `rates like theirs, so neither the rate nor ${name} is shown to be the cause.`,
    evidence,
    advice: `Try ${copy} (trial ${best.number}'s)${rate !== undefined ? ` at this trial's learning rate ${formatRate(rate)}` : ''}: then ${name} is the only difference.`,
  };
}

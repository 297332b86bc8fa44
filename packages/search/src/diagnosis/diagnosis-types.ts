import type { Direction, Params } from '@sweepd/core';

/**
 * One trial's diagnosis in words, from evidence: how far its kernels and biases moved, dead units
 * and sparsity, the course of its objective, and where its learning rate sits against its peers'.
 *
 * Static kernels are not a stall by themselves: fine-tuning a pretrained network at a modest rate
 * barely moves its kernels while the head, the biases and the normalisation layers learn (on an
 * H200, InceptionV4 with TF1 RMSProp at 0.01, epsilon 1.0, moved its kernels a median 0.47 % and
 * reached the best AUC of six configs). Only static kernels with an objective that does not rise
 * say "too low". Advice never contradicts the trial's own rate: "too low" suggests higher rates
 * than the trial's, "too high" lower ones.
 */
export type Verdict =
  | 'healthy'
  | 'too-low'
  | 'too-high'
  | 'dying-units'
  | 'diverged'
  | 'static-kernels-but-learning'
  | 'learning-slowly'
  | 'no-learning'
  | 'no-evidence';

export interface Diagnosis {
  verdict: Verdict;
  /** One sentence: the verdict and its main figures. */
  summary: string;
  /** The figures it rests on, one sentence each. */
  evidence: string[];
  /** What to try, consistent with the trial's own rate ('' when nothing to change). */
  advice: string;
  /** The learning rates the advice suggests, when it suggests any. */
  suggestedLearningRate?: { low: number; high: number };
}

export interface DiagnosisThresholds {
  /** Median kernel movement from the start below which the kernels count as static. */
  staticKernels: number;
  /** Median kernel movement from the start at or above which the kernels were rewritten. */
  largeKernels: number;
  /** Dead-unit fraction of one layer that counts as dying. */
  deadUnits: number;
  /** Activation sparsity of one layer that counts as dying when no dead fraction is reported. */
  sparsity: number;
  /** Best above chance by at least this: the trial learned. */
  learnedAboveChance: number;
  /** Best within this of chance: near chance. */
  nearChance: number;
  /**
   * Rise from the first epoch's value that counts as learning. This, the next two and
   * learnedAboveChance are in objective units for a score in [0, 1]; for other objectives they
   * are multiplied by the objective's scale (objective-scale.ts).
   */
  minGain: number;
  /**
   * For a score in [0, 1]: a rise that removes at least this share of the room the first epoch left
   * (1 − first when maximized) counts as learning too, above the noise (peerMargin). A fine-tuned
   * model that starts at accuracy 0.92 has 0.08 to gain; 0.92 → 0.95 is learning.
   */
  headroomShare: number;
  /** Peers within this of the trial's value count as neither better nor worse. */
  peerMargin: number;
  /**
   * Peers ahead by at least this count as clearly better: whether freezing held a trial back, and
   * whose settings a trial that learned is advised to try. Far above the noise between runs
   * (peerMargin), well below "learned at all".
   */
  clearlyBetter: number;
}

export const DEFAULT_DIAGNOSIS_THRESHOLDS: DiagnosisThresholds = {
  staticKernels: 0.01,
  largeKernels: 0.5,
  deadUnits: 0.5,
  sparsity: 0.97,
  learnedAboveChance: 0.15,
  nearChance: 0.1,
  minGain: 0.05,
  headroomShare: 0.25,
  peerMargin: 0.01,
  clearlyBetter: 0.05,
};

export interface DiagnosisObjective {
  metric: string;
  direction: Direction;
  /** The study's range of its learning rate, when it searches one: advice outside it says so. */
  learningRateRange?: { low: number; high: number; name?: string };
  /** The study's fixed parameters, which trials' own params leave out: the rate or the optimizer may be among them. */
  fixed?: Params;
}

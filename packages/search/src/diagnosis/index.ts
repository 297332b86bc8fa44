export {
  DEFAULT_DIAGNOSIS_THRESHOLDS,
  type Diagnosis,
  type DiagnosisObjective,
  type DiagnosisThresholds,
  diagnoseTrial,
  type Verdict,
} from './diagnose.ts';
export { chanceLevel, readEvidence, type TrialEvidence } from './evidence.ts';
export { learningRateOf, learningRateParam, optimizerOf } from './param-names.ts';
export { type RatePosition, ratePosition } from './peers.ts';
export { type ObjectiveUnits, objectiveUnits } from './objective-scale.ts';

/** What multilabelAuc returns (and AucSweep builds), apart from both so neither imports the other. */
export interface MultilabelAuc {
  /** ROC AUC of each class; null where the class has a single label value. */
  perClass: (number | null)[];
  /** Mean of the defined per-class AUCs; null when none is defined. */
  macro: number | null;
  /** AUC of all (label, score) pairs pooled; null when the pool has a single label value. */
  micro: number | null;
  /** Classes whose labels are all 0 or all 1 (AUC undefined), left out of `macro` and `macroAveragePrecision`. */
  omitted: number[];
  /**
   * Average precision of each class; null where the class has no positive label (scikit-learn
   * warns and returns 0 there). A class with only positives has AP 1.
   */
  averagePrecision: (number | null)[];
  /** Mean AP over the classes that are not omitted (the same classes as `macro`); null when there are none. */
  macroAveragePrecision: number | null;
}

/**
 * The support report's deeper measures: confusion matrix, calibration of the confidence, and k-fold
 * cross-validation of the statistical model. Used by `support-report.ts` and the classifier tests.
 */
import { classifyWithModel, type SupportClassification } from '../lib/support/classifier';
import { SUPPORT_INTENTS, type SupportIntent } from '../workflows/support-messages';
import { trainIntentModel, type TrainingMessage } from '../lib/support/model';

export interface LabelledResult {
  entry: { expectedIntent: SupportIntent; subject?: string; body: string; autoReplyAcceptable?: boolean };
  result: SupportClassification;
}

/** Rows: the intent a person would choose; columns: the classifier's intent. */
export function formatConfusionMatrix(results: readonly LabelledResult[]): string {
  const short = (i: SupportIntent) => i.replace('membership_status', 'status').replace('invoice_receipt', 'invoice');
  const header = `| expected \\ classified | ${SUPPORT_INTENTS.map(short).join(' | ')} |`;
  const rows = SUPPORT_INTENTS.map((expected) => {
    const cells = SUPPORT_INTENTS.map(
      (got) => results.filter(({ entry, result }) => entry.expectedIntent === expected && result.intent === got).length,
    );
    return `| \`${expected}\` | ${cells.join(' | ')} |`;
  });
  return [header, `| --- |${' ---: |'.repeat(SUPPORT_INTENTS.length)}`, ...rows].join('\n');
}

export interface CalibrationRow {
  minConfidence: number;
  /** Automatic answers the classifier gives at this confidence or more. */
  answered: number;
  right: number;
}

export const CALIBRATION_STEPS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] as const;

/** Of the automatic answers given at confidence ≥ x, how many had the right intent. */
export function calibration(results: readonly LabelledResult[]): CalibrationRow[] {
  const automatic = results.filter(({ result }) => result.route !== 'human');
  return CALIBRATION_STEPS.map((minConfidence) => {
    const answered = automatic.filter(({ result }) => result.confidence >= minConfidence);
    return {
      minConfidence,
      answered: answered.length,
      right: answered.filter(
        ({ entry, result }) => result.intent === entry.expectedIntent && entry.autoReplyAcceptable !== false,
      ).length,
    };
  });
}

export function formatCalibration(rows: readonly CalibrationRow[]): string {
  return [
    '| confidence ≥ | automatic answers | right |',
    '| ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.minConfidence.toFixed(1)} | ${r.answered} | ${r.answered === 0 ? '–' : `${Math.round((r.right / r.answered) * 100)}%`} |`,
    ),
  ].join('\n');
}

/**
 * k-fold cross-validation: message i is in fold i mod k; each fold is classified by a model trained on the
 * other folds (the rules stay as they
 * are: they were written on the whole corpus, so this measures what the model adds on messages it did not see). Deterministic: the same corpus gives the same figures.
 */
export function crossValidate<E extends TrainingMessage>(
  corpus: readonly E[],
  k: number,
  minAutoReplyConfidence?: number,
): Array<{ entry: E; result: SupportClassification }> {
  const out: Array<{ entry: E; result: SupportClassification; index: number }> = [];
  for (let fold = 0; fold < k; fold += 1) {
    const training = corpus.filter((_, i) => i % k !== fold);
    const model = trainIntentModel(training);
    corpus.forEach((entry, index) => {
      if (index % k !== fold) return;
      out.push({ entry, index, result: classifyWithModel(model, { ...entry, minAutoReplyConfidence }) });
    });
  }
  return out.sort((a, b) => a.index - b.index).map(({ entry, result }) => ({ entry, result }));
}

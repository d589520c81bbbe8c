/**
 * Runs the support classifier over a labelled corpus and prints, per intent, how often it is right and how
 * much it answers without a person, as a markdown table for the README.
 *
 *   npx tsx tools/support-report.ts [corpus.json] [--failures]   (default: lib/support/training/corpus.json)
 *
 * After the table: the confusion matrix, the calibration of the confidence, and a k-fold cross-validation over
 * the whole given corpus (each fold classified by a model trained on the other folds). `--failures` also lists
 * every message that was not answered automatically with the right intent.
 *
 * The test suite imports the same functions, so the README figures and the asserted figures cannot drift.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { MEMBERSHIP_STATUSES } from '../workflows/messages';
import { SUPPORT_INTENTS, type SupportIntent } from '../workflows/support-messages';
import { classifySupportRequest, type SupportClassification } from '../lib/support/classifier';
import { calibration, crossValidate, formatCalibration, formatConfusionMatrix } from './support-eval';

/** The messages the model is trained on; it ships with the product. */
export const DEFAULT_CORPUS_PATH = path.join(__dirname, '..', 'lib', 'support', 'training', 'corpus.json');
/**
 * Messages written after the rules, and never used to tune them: the honest estimate for messages we have not
 * seen. Once its failures have been used to change the rules it is training data; merge it into the corpus and
 * write a new one.
 */
export const HELD_OUT_CORPUS_PATH = path.join(__dirname, '..', 'test', 'data', 'support-holdout-3.json');
/** 163 messages in members' own voices (languages, typos, complaints), written before the model and its rules. */
export const HELD_OUT_4_CORPUS_PATH = path.join(__dirname, '..', 'test', 'data', 'support-holdout-4.json');
/** Folds of the cross-validation in the report. */
export const CROSS_VALIDATION_FOLDS = 5;

const corpusEntrySchema = z.object({
  subject: z.string().optional(),
  body: z.string().min(1),
  member: z.object({ status: z.enum(MEMBERSHIP_STATUSES), allowed: z.boolean() }).optional(),
  expectedIntent: z.enum(SUPPORT_INTENTS),
});
export type CorpusEntry = z.infer<typeof corpusEntrySchema>;

/** Reads and validates a corpus file; a malformed entry fails with its index and field. */
export function loadSupportCorpus(file = DEFAULT_CORPUS_PATH): CorpusEntry[] {
  return z.array(corpusEntrySchema).parse(JSON.parse(readFileSync(file, 'utf8')));
}

export interface CorpusResult {
  entry: CorpusEntry;
  result: SupportClassification;
}

export interface IntentFigures {
  intent: SupportIntent | 'named intents';
  messages: number;
  /** Classified as the expected intent. */
  correct: number;
  /** Answered automatically (auto_reply or billing_flow) with the right intent: no person needed. */
  resolvedWithoutHuman: number;
  /** Answered automatically with the wrong intent: the member got the wrong reply. */
  wrongAutomatic: number;
}

export interface SupportReport {
  results: CorpusResult[];
  /** One row per intent, then the five named intents together. */
  rows: IntentFigures[];
  named: IntentFigures;
}

const NAMED_INTENTS = SUPPORT_INTENTS.filter((i) => i !== 'other');

function figures(intent: IntentFigures['intent'], results: readonly CorpusResult[]): IntentFigures {
  const automatic = results.filter(({ result }) => result.route !== 'human');
  return {
    intent,
    messages: results.length,
    correct: results.filter(({ entry, result }) => result.intent === entry.expectedIntent).length,
    resolvedWithoutHuman: automatic.filter(({ entry, result }) => result.intent === entry.expectedIntent).length,
    wrongAutomatic: automatic.filter(({ entry, result }) => result.intent !== entry.expectedIntent).length,
  };
}

/** Figures for classified messages: by default the shipped classifier, or results computed elsewhere (folds). */
export function evaluateSupportCorpus(
  corpus: readonly CorpusEntry[],
  classified: readonly CorpusResult[] = corpus.map((entry) => ({ entry, result: classifySupportRequest(entry) })),
): SupportReport {
  const results = [...classified];
  const byExpected = (intents: readonly SupportIntent[]) =>
    results.filter(({ entry }) => intents.includes(entry.expectedIntent));
  return {
    results,
    rows: SUPPORT_INTENTS.map((intent) => figures(intent, byExpected([intent]))),
    named: figures('named intents', byExpected(NAMED_INTENTS)),
  };
}

/** 0.9 → "90%"; an empty row shows a dash rather than NaN. */
function percent(part: number, whole: number): string {
  return whole === 0 ? '–' : `${Math.round((part / whole) * 100)}%`;
}

export function accuracy(row: IntentFigures): number {
  return row.messages === 0 ? 0 : row.correct / row.messages;
}

export function formatSupportReport(report: SupportReport): string {
  const line = (row: IntentFigures, label: string) =>
    `| ${label} | ${row.messages} | ${percent(row.correct, row.messages)} | ` +
    `${percent(row.resolvedWithoutHuman, row.messages)} | ${row.wrongAutomatic} |`;
  return [
    '| Intent | Messages | Accuracy | Resolved without a human | Wrong automatic answers |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...report.rows.map((row) => line(row, `\`${row.intent}\``)),
    line(report.named, '**five named intents**'),
  ].join('\n');
}

/** Every message a person had to answer or that got the wrong intent, with the classifier's reason. */
export function formatFailures(report: SupportReport): string {
  return report.results
    .filter(({ entry, result }) => result.intent !== entry.expectedIntent || result.route === 'human')
    .filter(({ entry, result }) => !(entry.expectedIntent === 'other' && result.intent === 'other'))
    .map(({ entry, result }) => {
      const verdict =
        result.intent !== entry.expectedIntent && result.route !== 'human' ? 'WRONG AUTOMATIC ANSWER' : result.route;
      const text = [entry.subject, entry.body].filter(Boolean).join(' | ');
      return `- expected ${entry.expectedIntent}, got ${result.intent} (${verdict}): ${text}\n  ${result.reason}`;
    })
    .join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const fileArg = args.find((arg) => !arg.startsWith('--'));
  const file = fileArg ? path.resolve(fileArg) : DEFAULT_CORPUS_PATH;
  const report = evaluateSupportCorpus(loadSupportCorpus(file));
  console.log(`Support classifier on ${path.relative(process.cwd(), file)} (${report.results.length} messages)\n`);
  console.log(formatSupportReport(report));
  console.log(`\nConfusion matrix (rows: expected)\n\n${formatConfusionMatrix(report.results)}`);
  const corpus = report.results.map(({ entry }) => entry);
  const folds = evaluateSupportCorpus(corpus, crossValidate(corpus, CROSS_VALIDATION_FOLDS));
  const unthresholded = crossValidate(corpus, CROSS_VALIDATION_FOLDS, 0);
  console.log(
    `\nCalibration (cross-validated, threshold off): of the automatic answers at confidence ≥ x, the share right\n\n` +
      formatCalibration(calibration(unthresholded)),
  );
  console.log(
    `\n${CROSS_VALIDATION_FOLDS}-fold cross-validation over the ${corpus.length} messages (model retrained per fold)\n`,
  );
  console.log(formatSupportReport(folds));
  if (args.includes('--failures')) console.log(`\n${formatFailures(report)}`);
}

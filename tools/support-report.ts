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
/**
 * 160 messages (German, French, Spanish, typos, non-native English, one line and long, complaints and requests,
 * order numbers, amounts, company names, two questions in one), written from the reply templates alone and
 * committed before the thirteenth round of issue 17's classifier changes and measured after them, never tuned on.
 */
export const HELD_OUT_17_CORPUS_PATH = path.join(__dirname, '..', 'test', 'data', 'support-holdout-17.json');
/** Folds of the cross-validation in the report. */
export const CROSS_VALIDATION_FOLDS = 5;

const corpusEntrySchema = z.object({
  subject: z.string().optional(),
  body: z.string().min(1),
  member: z.object({ status: z.enum(MEMBERSHIP_STATUSES), allowed: z.boolean() }).optional(),
  expectedIntent: z.enum(SUPPORT_INTENTS),
  /**
   * False when even the right intent's automatic reply would not do (a refund demand, a second question the
   * reply does not answer): answering it automatically counts as a wrong automatic answer. Absent: acceptable.
   */
  autoReplyAcceptable: z.boolean().optional(),
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
  /**
   * Answered automatically with the wrong intent, or with the right one on a message labelled
   * `autoReplyAcceptable: false`: the member got a reply that does not fit.
   */
  wrongAutomatic: number;
  /** Of `wrongAutomatic`, those with the right intent on a message that needed a person. */
  rightIntentNeededPerson: number;
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
  const rightIntent = automatic.filter(({ entry, result }) => result.intent === entry.expectedIntent);
  const neededPerson = rightIntent.filter(({ entry }) => entry.autoReplyAcceptable === false).length;
  return {
    intent,
    messages: results.length,
    correct: results.filter(({ entry, result }) => result.intent === entry.expectedIntent).length,
    resolvedWithoutHuman: rightIntent.length - neededPerson,
    wrongAutomatic: automatic.length - rightIntent.length + neededPerson,
    rightIntentNeededPerson: neededPerson,
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

/** Only for a corpus that labels messages needing a person: how many wrong answers had the right intent. */
export function formatNeededPerson(report: SupportReport): string | undefined {
  if (!report.results.some(({ entry }) => entry.autoReplyAcceptable === false)) return undefined;
  const total = report.rows.reduce((sum, row) => sum + row.rightIntentNeededPerson, 0);
  const labelled = report.results.filter(({ entry }) => entry.autoReplyAcceptable === false).length;
  return (
    `Of the wrong automatic answers, ${total} had the right intent on a message labelled as needing a person ` +
    `(${labelled} messages carry autoReplyAcceptable: false).`
  );
}

/** The reason a decision gives, without its evidence, quoted words, intents and figures: one line per kind. */
function reasonKind(reason: string): string {
  const head = reason.split(/: (?:rules|No rule|model)/)[0];
  return head
    .replace(/\([^)]*\)/g, '')
    .replace(/"[^"]*"/g, '…')
    .replace(/\b\d+(\.\d+)?\b/g, 'x')
    .replace(/\s+/g, ' ')
    .replace(/ ([:,])/g, '$1')
    .trim();
}

/** Who answers and why: every route, and for messages sent to a person, each kind of reason with its count. */
export function formatRoutes(report: SupportReport): string {
  const counts = new Map<string, number>();
  for (const { result } of report.results) {
    const key = result.route === 'human' ? `human: ${reasonKind(result.reason)}` : result.route;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [
    '| route (and why a person) | messages |',
    '| --- | ---: |',
    ...[...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, n]) => `| ${k} | ${n} |`),
  ].join('\n');
}

/** Every message a person had to answer or that got the wrong intent, with the classifier's reason. */
export function formatFailures(report: SupportReport): string {
  return report.results
    .filter(
      ({ entry, result }) =>
        result.intent !== entry.expectedIntent || result.route === 'human' || entry.autoReplyAcceptable === false,
    )
    .filter(({ entry, result }) => !(entry.expectedIntent === 'other' && result.intent === 'other'))
    .map(({ entry, result }) => {
      const wrong =
        result.route !== 'human' && (result.intent !== entry.expectedIntent || entry.autoReplyAcceptable === false);
      const verdict = wrong ? 'WRONG AUTOMATIC ANSWER' : result.route;
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
  const neededPerson = formatNeededPerson(report);
  if (neededPerson) console.log(`\n${neededPerson}`);
  console.log(`\nConfusion matrix (rows: expected)\n\n${formatConfusionMatrix(report.results)}`);
  console.log(`\nWho answers (unsure → person)\n\n${formatRoutes(report)}`);
  const corpus = report.results.map(({ entry }) => entry);
  const shipped = corpus.map((entry) => ({
    entry,
    result: classifySupportRequest({ ...entry, minAutoReplyConfidence: 0 }),
  }));
  console.log(
    `\nCalibration of the shipped classifier on these messages (threshold off; on its own training corpus this is ` +
      `optimistic): of the automatic answers at confidence ≥ x, the share right\n\n${formatCalibration(calibration(shipped))}`,
  );
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

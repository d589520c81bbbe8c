/**
 * The statistical half of the support classifier: a naive Bayes intent model over words, word pairs and
 * letter groups (so misspellings and inflections of a known word still count), trained in memory from the
 * labelled messages in `training/corpus.json`. Training is deterministic (same corpus, same order, same
 * model) and takes a few milliseconds; it happens once, on first use. No network, no file written.
 *
 * The model explains itself the way the rules do: `words` lists the member's words whose removal lowers the
 * winning intent's probability the most.
 */
import createClassifier from 'wink-naive-bayes-text-classifier';
import type { MembershipStatus } from '../../workflows/messages';
import { normalizeMessage } from './normalize';
import { SUPPORT_INTENTS, type SupportIntent } from '../../workflows/support-messages';
import trainingCorpus from './training/corpus.json';

/** One labelled message, the format of `training/corpus.json` and of the held-out sets. */
export interface TrainingMessage {
  subject?: string;
  body: string;
  member?: { status: MembershipStatus; allowed: boolean };
  expectedIntent: SupportIntent;
}

export interface ModelPrediction {
  intent: SupportIntent;
  /** 0..1, the model's posterior for `intent`. */
  probability: number;
  /** Every intent's posterior, highest first. */
  ranking: ReadonlyArray<{ intent: SupportIntent; probability: number }>;
  /** The member's words that pushed the model most towards `intent`, strongest first. */
  words: readonly string[];
}

export interface IntentModel {
  predict(subject: string | undefined, body: string): ModelPrediction;
}

/** Letter groups of this length stand in for a word's stem and survive one-letter typos in long words. */
const LETTER_GROUP = 4;
/** Half a count for a feature never seen with an intent: keeps one unseen word from vetoing an intent. */
const SMOOTHING = 0.5;
const MAX_EXPLAINING_WORDS = 5;
/**
 * Naive Bayes counts every letter group and word pair of a word as independent evidence, so its raw odds are
 * far too sure (1.00 on two words). Dividing the log-odds by this brings its probability closer to how often it
 * is right on folds it never saw (chosen on the cross-validated log-loss of the training corpus).
 */
const ODDS_TEMPERATURE = 5;
/** Words too common to explain anything to a founder, even when the model leans on them. */
const UNEXPLAINING = new Set([
  'the',
  'you',
  'your',
  'was',
  'this',
  'that',
  'what',
  'for',
  'can',
  'and',
  'with',
  'have',
  'its',
]);

/** A feature remembers the word it came from, so the explanation can speak in the member's words. */
interface Feature {
  token: string;
  word: string;
}

function wordFeatures(word: string): Feature[] {
  const out: Feature[] = [{ token: `w:${word}`, word }];
  if (word.length > LETTER_GROUP) {
    const padded = `<${word}>`;
    for (let i = 0; i + LETTER_GROUP <= padded.length; i += 1) {
      out.push({ token: `g:${padded.slice(i, i + LETTER_GROUP)}`, word });
    }
  }
  return out;
}

/** Words (no digits-only tokens), adjacent word pairs within a sentence, and letter groups of longer words. */
export function messageFeatures(subject: string | undefined, body: string): Feature[] {
  const sentences = [...normalizeMessage(subject ?? ''), ...normalizeMessage(body)];
  const features: Feature[] = [];
  for (const sentence of sentences) {
    const words = sentence.filter((w) => w.length > 1 && !/^\d+$/.test(w));
    words.forEach((word, i) => {
      features.push(...wordFeatures(word));
      if (i > 0) features.push({ token: `p:${words[i - 1]}_${word}`, word: `${words[i - 1]} ${word}` });
    });
  }
  return features;
}

/** The classifier's input is the features joined by spaces; its one preparation step splits them again. */
const joinFeatures = (features: readonly Feature[]): string => features.map((f) => f.token).join(' ');

type OddsTable = ReadonlyArray<readonly [string, number]>;

function toRanking(odds: OddsTable): ModelPrediction['ranking'] {
  // computeOdds gives, per intent, log2 of its odds against all the others: a sigmoid turns each into a
  // one-against-the-rest probability, normalised so that they sum to 1. No known word at all: `other`, 0.
  const known = odds.filter(([label]) => (SUPPORT_INTENTS as readonly string[]).includes(label));
  if (known.length === 0) return [{ intent: 'other', probability: 0 }];
  const weights = known.map(([label, o]) => ({
    intent: label as SupportIntent,
    weight: 1 / (1 + 2 ** (-o / ODDS_TEMPERATURE)),
  }));
  const total = weights.reduce((sum, w) => sum + w.weight, 0);
  return weights
    .map(({ intent, weight }) => ({ intent, probability: weight / total }))
    .sort(
      (a, b) => b.probability - a.probability || SUPPORT_INTENTS.indexOf(a.intent) - SUPPORT_INTENTS.indexOf(b.intent),
    );
}

/** Trains a model on the given messages, in their order. Pure: the same messages give the same model. */
export function trainIntentModel(messages: readonly TrainingMessage[]): IntentModel {
  const nbc = createClassifier();
  nbc.definePrepTasks([(input: string) => (input === '' ? [] : input.split(' '))]);
  nbc.defineConfig({ considerOnlyPresence: true, smoothingFactor: SMOOTHING });
  for (const m of messages) nbc.learn(joinFeatures(messageFeatures(m.subject, m.body)), m.expectedIntent);
  nbc.consolidate();

  const rankingOf = (features: readonly Feature[]) => toRanking(nbc.computeOdds(joinFeatures(features)));

  return {
    predict(subject, body) {
      const features = messageFeatures(subject, body);
      const ranking = rankingOf(features);
      const [top] = ranking;
      const logP = (r: ModelPrediction['ranking']) =>
        Math.log(r.find((x) => x.intent === top.intent)?.probability ?? 1e-12);
      const base = logP(ranking);
      // Leave-one-word-out: how much the winning intent loses without each word (and the pairs it is part of).
      const words = [...new Set(features.filter((f) => f.token.startsWith('w:')).map((f) => f.word))];
      const drivers = words
        .map((word) => {
          const rest = features.filter((f) => f.word !== word && !f.word.split(' ').includes(word));
          return { word, drop: base - logP(rankingOf(rest)) };
        })
        .filter((d) => d.drop > 0 && d.word.length > 2 && !UNEXPLAINING.has(d.word))
        .sort((a, b) => b.drop - a.drop || a.word.localeCompare(b.word))
        .slice(0, MAX_EXPLAINING_WORDS)
        .map((d) => d.word);
      return { intent: top.intent, probability: top.probability, ranking, words: drivers };
    },
  };
}

let shipped: IntentModel | undefined;

/** The model trained on the corpus shipped with memberops; trained once, on first use. */
export function supportIntentModel(): IntentModel {
  shipped ??= trainIntentModel(trainingCorpus as TrainingMessage[]);
  return shipped;
}

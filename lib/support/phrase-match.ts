/**
 * Phrase matching for the support rules: a phrase's words in order within one sentence, at most MAX_GAP words apart,
 * a trailing `*` for a prefix, and one typo (a missing, added or swapped letter) in words of five letters or more.
 */
import { MAX_GAP } from './rules';
import { applyReplacements, plainWords } from './normalize';

/** Shorter words must match exactly: one-letter typos of "card" or "pay" are other real words. */
const TYPO_MIN_LENGTH = 5;

export type Words = readonly string[];

export interface PhraseWord {
  text: string;
  prefix: boolean;
}

export interface CompiledPhrase {
  source: string;
  words: readonly PhraseWord[];
}

/** Phrases go through the same normalisation as messages; a trailing `*` survives it as a prefix marker. */
export function compilePhrase(source: string): CompiledPhrase {
  const marked = source
    .trim()
    .split(/\s+/)
    .flatMap((raw) => {
      const parts = plainWords(raw);
      return raw.endsWith('*') && parts.length > 0 ? [...parts.slice(0, -1), `${parts[parts.length - 1]}*`] : parts;
    });
  const words = applyReplacements(marked).map((w) =>
    w.endsWith('*') ? { text: w.slice(0, -1), prefix: true } : { text: w, prefix: false },
  );
  return { source, words };
}

/** True when `a` and `b` differ by at most one missing, added, or swapped-with-its-neighbour letter. */
function withinOneTypo(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.length === b.length) {
    let i = 0;
    while (i < a.length && a[i] === b[i]) i += 1;
    return i < a.length - 1 && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  if (long.length - short.length !== 1) return false;
  let i = 0;
  while (i < short.length && short[i] === long[i]) i += 1;
  return short.slice(i) === long.slice(i + 1);
}

function wordMatches(token: string, word: PhraseWord): boolean {
  if (word.prefix ? token.startsWith(word.text) : token === word.text) return true;
  // Substitutions are not tolerated on purpose: they turn real words into other real words (charge/change).
  if (word.text.length < TYPO_MIN_LENGTH || token.length < TYPO_MIN_LENGTH) return false;
  // A French past participle is not its infinitive: "jai annule" (I cancelled) is not "jai ... annuler" (to cancel).
  if (!word.prefix && word.text.endsWith('e') && token === `${word.text}r`) return false;
  if (!word.prefix) return withinOneTypo(token, word.text);
  const n = word.text.length;
  return withinOneTypo(token.slice(0, n), word.text) || withinOneTypo(token.slice(0, n + 1), word.text);
}

/** The phrase's words in order within one sentence, at most MAX_GAP words apart. */
function sentenceHas(words: Words, phrase: readonly PhraseWord[], from = 0, latestStart = Infinity): boolean {
  if (phrase.length === 0) return true;
  for (let i = from; i < words.length && i <= latestStart; i += 1) {
    if (wordMatches(words[i], phrase[0]) && sentenceHas(words, phrase.slice(1), i + 1, i + 1 + MAX_GAP)) return true;
  }
  return false;
}

export function messageHas(sentences: readonly Words[], phrase: CompiledPhrase): boolean {
  return phrase.words.length > 0 && sentences.some((words) => sentenceHas(words, phrase.words));
}

/** The first phrase of the list the message contains, to name it in the reason. */
export function firstPhrase(sentences: readonly Words[], phrases: readonly CompiledPhrase[]): string | undefined {
  return phrases.find((p) => messageHas(sentences, p))?.source;
}

/**
 * Text normalisation shared by the rules and the statistical model: lowercase, no accents, greetings dropped,
 * abbreviations and foreign nouns read as one English word, quoted email history removed. Pure.
 */
import { ALIASES, POLITENESS } from './spellings';

type Words = readonly string[];

const LETTER_FOLDS: Readonly<Record<string, string>> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd' };

/** Lowercase, accents and diacritics removed (`ß` → `ss`), apostrophes dropped (`can't` → `cant`); punctuation kept. */
export function foldText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[ßæœøłđ]/g, (c) => LETTER_FOLDS[c] ?? c)
    .replace(/['’‘`´]/g, '');
}

/** The folded text's words: anything but letters and digits is a space. */
export function plainWords(text: string): string[] {
  const folded = foldText(text)
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
  return folded === '' ? [] : folded.split(' ');
}

/** [from words, to words], longest first so that "thank you" is removed before "you" could be looked at. */
const REPLACEMENTS: ReadonlyArray<readonly [Words, Words]> = [
  ...Object.entries(ALIASES).map(([from, to]) => [plainWords(from), plainWords(to)] as const),
  ...POLITENESS.map((phrase) => [plainWords(phrase), [] as Words] as const),
].sort((a, b) => b[0].length - a[0].length);

export function applyReplacements(words: Words): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < words.length) {
    const hit = REPLACEMENTS.find(([from]) => from.length > 0 && from.every((w, k) => words[i + k] === w));
    if (hit) {
      out.push(...hit[1]);
      i += hit[0].length;
    } else {
      out.push(words[i]);
      i += 1;
    }
  }
  return out;
}

/** Drops the quoted history an email client appends, so an earlier message is not classified twice. */
function withoutQuotedReply(text: string): string {
  const lines = text.split(/\r?\n/);
  const cut = lines.findIndex(
    (line) => /^\s*on .{0,200}wrote:\s*$/i.test(line) || /^-{2,}\s*original message/i.test(line),
  );
  return (cut === -1 ? lines : lines.slice(0, cut)).filter((line) => !/^\s*>/.test(line)).join('\n');
}

/** The message as sentences of normalised words; phrases never span two sentences. Exported for tests. */
export function normalizeMessage(text: string): string[][] {
  return withoutQuotedReply(text)
    .split(/[.!?;:\n\r¿¡]+/)
    .map((sentence) => applyReplacements(plainWords(sentence)))
    .filter((words) => words.length > 0);
}

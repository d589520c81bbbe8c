/**
 * Support request classification: which intent a member's message is about and who should answer it.
 * Pure (no I/O, no clock), so it runs the same in an API route, an activity, a script or a test. The
 * words live in `rules.ts`; this file is only the matching engine and the routing policy.
 */
import type { MembershipStatus } from '../../workflows/messages';
import { SUPPORT_INTENTS, type SupportIntent, type SupportRoute } from '../../workflows/support-messages';
import {
  AUTO_REPLY_MIN_RULE_WEIGHT,
  CLOSE_RATIO,
  CONFIDENT_SCORE,
  CONTEXT_RULES,
  INTENT_RULES,
  MAX_GAP,
  MIN_SCORE,
  type ContextRule,
} from './rules';
import { ALIASES, POLITENESS } from './spellings';

export interface SupportMember {
  status: MembershipStatus;
  /** Whether the app currently grants access (the entitlement, not just the status). */
  allowed: boolean;
}

export interface SupportRequest {
  subject?: string;
  body: string;
  /** Null or absent when the sender's email matches no member. */
  member?: SupportMember | null;
  /** Automatic replies already sent on this conversation. */
  priorAutoReplies?: number;
}

/** One rule that fired; negative weights come from `not` phrases. */
export interface RuleMatch {
  intent: SupportIntent;
  rule: string;
  weight: number;
}

export interface SupportClassification {
  intent: SupportIntent;
  route: SupportRoute;
  /** 0..1: how strong the winning score is, times how far ahead of the runner-up it is. */
  confidence: number;
  /** Every rule that fired, for every intent, so the admin view can show what competed. */
  matched: RuleMatch[];
  reason: string;
}

const DUNNING_STATUSES: ReadonlySet<MembershipStatus> = new Set(['past_due', 'grace_period']);
/** Shorter words must match exactly: one-letter typos of "card" or "pay" are other real words. */
const TYPO_MIN_LENGTH = 5;
/** On equal scores `other` wins, so a tie with it never claims a named intent. */
const TIE_ORDER: readonly SupportIntent[] = ['other', ...SUPPORT_INTENTS.filter((i) => i !== 'other')];

type Words = readonly string[];

interface PhraseWord {
  text: string;
  prefix: boolean;
}

interface CompiledPhrase {
  source: string;
  words: readonly PhraseWord[];
}

// ---------------------------------------------------------------------------------------------------------
// Text normalisation

const LETTER_FOLDS: Readonly<Record<string, string>> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd' };

/** Lowercase, accents and diacritics removed, apostrophes dropped (`can't` → `cant`), anything else a space. */
function plainWords(text: string): string[] {
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[ßæœøłđ]/g, (c) => LETTER_FOLDS[c] ?? c)
    .replace(/['’‘`´]/g, '')
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

function applyReplacements(words: Words): string[] {
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

// ---------------------------------------------------------------------------------------------------------
// Phrase matching

/** Phrases go through the same normalisation as messages; a trailing `*` survives it as a prefix marker. */
function compilePhrase(source: string): CompiledPhrase {
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

function messageHas(sentences: readonly Words[], phrase: CompiledPhrase): boolean {
  return phrase.words.length > 0 && sentences.some((words) => sentenceHas(words, phrase.words));
}

interface CompiledIntent {
  intent: SupportIntent;
  phrases: readonly (CompiledPhrase & { weight: number })[];
}

interface CompiledContextRule extends ContextRule {
  compiledPhrases?: readonly CompiledPhrase[];
}

/** The tables compiled once; they are constants, so this is pure. */
const COMPILED_INTENTS: readonly CompiledIntent[] = SUPPORT_INTENTS.map((intent) => {
  const { phrases, not = {} } = INTENT_RULES[intent];
  return {
    intent,
    phrases: [
      ...Object.entries(phrases).map(([source, weight]) => ({ ...compilePhrase(source), weight })),
      ...Object.entries(not).map(([source, weight]) => ({ ...compilePhrase(source), weight: -weight })),
    ],
  };
});

const COMPILED_CONTEXT: readonly CompiledContextRule[] = CONTEXT_RULES.map((rule) => ({
  ...rule,
  compiledPhrases: rule.phrases?.map(compilePhrase),
}));

function contextApplies(
  rule: CompiledContextRule,
  sentences: readonly Words[],
  member: SupportMember | null,
  phraseScore: ReadonlyMap<SupportIntent, number>,
): boolean {
  if (rule.statuses && (!member || !rule.statuses.includes(member.status))) return false;
  if (rule.allowed !== undefined && (!member || member.allowed !== rule.allowed)) return false;
  if (rule.compiledPhrases && !rule.compiledPhrases.some((p) => messageHas(sentences, p))) return false;
  if (rule.onlyIfIntentMatched && (phraseScore.get(rule.intent) ?? 0) <= 0) return false;
  return true;
}

/** Every rule that fires on the message, phrases first, then the member-context rules. */
function matchRules(sentences: readonly Words[], member: SupportMember | null): RuleMatch[] {
  const matched: RuleMatch[] = [];
  for (const { intent, phrases } of COMPILED_INTENTS) {
    for (const phrase of phrases) {
      if (messageHas(sentences, phrase)) matched.push({ intent, rule: phrase.source, weight: phrase.weight });
    }
  }
  const phraseScore = sumByIntent(matched);
  for (const rule of COMPILED_CONTEXT) {
    if (contextApplies(rule, sentences, member, phraseScore)) {
      matched.push({ intent: rule.intent, rule: `context:${rule.id}`, weight: rule.weight });
    }
  }
  return matched;
}

function sumByIntent(matched: readonly RuleMatch[]): Map<SupportIntent, number> {
  const scores = new Map<SupportIntent, number>(SUPPORT_INTENTS.map((i) => [i, 0]));
  for (const m of matched) scores.set(m.intent, (scores.get(m.intent) ?? 0) + m.weight);
  return scores;
}

// ---------------------------------------------------------------------------------------------------------
// Decision

interface Ranked {
  intent: SupportIntent;
  score: number;
}

function rank(matched: readonly RuleMatch[]): Ranked[] {
  const scores = sumByIntent(matched);
  return TIE_ORDER.map((intent) => ({ intent, score: Math.max(0, scores.get(intent) ?? 0) })).sort(
    (a, b) => b.score - a.score, // stable: equal scores keep TIE_ORDER
  );
}

/** The heaviest single rule (phrase or context) that fired for the intent. */
function strongestRule(intent: SupportIntent, matched: readonly RuleMatch[]): number {
  return Math.max(0, ...matched.filter((m) => m.intent === intent).map((m) => m.weight));
}

function describeEvidence(intent: SupportIntent, matched: readonly RuleMatch[]): string {
  const rules = matched.filter((m) => m.intent === intent);
  if (rules.length === 0) return 'no rule matched';
  return rules.map((m) => `"${m.rule}" ${m.weight > 0 ? '+' : ''}${m.weight}`).join(', ');
}

/** Classifies a support message and decides who answers it. */
export function classifySupportRequest(input: SupportRequest): SupportClassification {
  const member = input.member ?? null;
  const sentences = [...normalizeMessage(input.subject ?? ''), ...normalizeMessage(input.body)];
  const matched = matchRules(sentences, member);
  const [top, second] = rank(matched);
  const confidence =
    top.score <= 0
      ? 0
      : Math.round(Math.min(1, top.score / CONFIDENT_SCORE) * (1 - second.score / top.score) * 100) / 100;
  const decide = (intent: SupportIntent, route: SupportRoute, reason: string): SupportClassification => ({
    intent,
    route,
    confidence,
    matched,
    reason,
  });
  const scoreLine = `${top.intent} ${top.score} (${describeEvidence(top.intent, matched)}), runner-up ${second.intent} ${second.score}`;

  if (top.score === 0) {
    return decide('other', 'human', 'No rule matched.');
  }
  if (top.score < MIN_SCORE) {
    return decide('other', 'human', `No intent reached the minimum score of ${MIN_SCORE}: ${scoreLine}.`);
  }
  if (top.intent === 'other') {
    return decide('other', 'human', `Classified as other, which is never answered automatically: ${scoreLine}.`);
  }
  if (second.score >= top.score * CLOSE_RATIO) {
    return decide(top.intent, 'human', `Too close to call between ${top.intent} and ${second.intent}: ${scoreLine}.`);
  }
  if (strongestRule(top.intent, matched) < AUTO_REPLY_MIN_RULE_WEIGHT) {
    return decide(top.intent, 'human', `Only hints for ${top.intent}, no rule strong enough to answer: ${scoreLine}.`);
  }
  const priorAutoReplies = input.priorAutoReplies ?? 0;
  if (priorAutoReplies > 0) {
    return decide(
      top.intent,
      'human',
      `The member wrote again after ${priorAutoReplies} automatic repl${priorAutoReplies === 1 ? 'y' : 'ies'}: ${scoreLine}.`,
    );
  }
  if (top.intent === 'billing' && member && DUNNING_STATUSES.has(member.status)) {
    return decide('billing', 'billing_flow', `Billing question from a member in ${member.status}: ${scoreLine}.`);
  }
  return decide(top.intent, 'auto_reply', `Classified as ${top.intent}: ${scoreLine}.`);
}

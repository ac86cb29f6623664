// How each operator of the vocabulary compares a fact with a condition's value. No user-written
// regular expression ever runs: URL patterns and word matches are matched by hand, in time linear
// in the (bounded) input.
import type { OperatorName } from './vocabulary.ts';

/** Longest text an operator looks at; longer fact values are cut (messages are ≤ 10,000). */
export const MAX_COMPARED_LENGTH = 20_000;

const text = (value: unknown): string => (typeof value === 'string' ? value.slice(0, MAX_COMPARED_LENGTH) : '');

/** Lower case without accents: "Atención" and "atencion" are the same word. */
export function foldText(value: string): string {
  return value.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase();
}

/** The words of a text, folded; letters and digits make words, everything else separates them. */
export function wordsOf(value: string): string[] {
  // Every hasWord condition of an evaluation asks about the same message: split it once.
  if (value === lastText) return lastWords;
  const words = foldText(value).match(/[\p{L}\p{N}]+/gu) ?? [];
  if (value.length > 64) {
    lastText = value;
    lastWords = words;
  }
  return words;
}
let lastText: string | undefined;
let lastWords: string[] = [];

/** The words of a rule's phrase, split once: rules are compiled once and evaluated often. */
const phraseWords = new Map<string, string[]>();
const MAX_CACHED_PHRASES = 20_000;
function wordsOfPhrase(phrase: string): string[] {
  let words = phraseWords.get(phrase);
  if (!words) {
    words = wordsOf(phrase);
    if (phraseWords.size >= MAX_CACHED_PHRASES) phraseWords.clear();
    phraseWords.set(phrase, words);
  }
  return words;
}

/** Whether `words` contains the phrase (a sequence of words) as consecutive whole words. */
function containsPhrase(words: string[], phrase: string[]): boolean {
  if (phrase.length === 0) return false;
  outer: for (let start = 0; start + phrase.length <= words.length; start += 1) {
    for (let offset = 0; offset < phrase.length; offset += 1) if (words[start + offset] !== phrase[offset]) continue outer;
    return true;
  }
  return false;
}

export function hasWord(fact: unknown, wanted: string | readonly string[]): boolean {
  const words = wordsOf(text(fact));
  const phrases = typeof wanted === 'string' ? [wanted] : wanted;
  return phrases.some((phrase) => containsPhrase(words, wordsOfPhrase(phrase)));
}

/**
 * Glob match where `*` stands for any run of characters, case-insensitive: the classic greedy
 * algorithm with one backtrack point, O(pattern × address) at worst on bounded strings.
 */
export function matchesUrlPattern(fact: unknown, pattern: string): boolean {
  const address = text(fact).toLowerCase();
  const glob = pattern.toLowerCase();
  let a = 0;
  let g = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (a < address.length) {
    if (g < glob.length && glob[g] === '*') {
      starAt = g;
      g += 1;
      resumeAt = a;
    } else if (g < glob.length && glob[g] === address[a]) {
      a += 1;
      g += 1;
    } else if (starAt >= 0) {
      g = starAt + 1;
      resumeAt += 1;
      a = resumeAt;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g += 1;
  return g === glob.length;
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

function contains(fact: unknown, value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const wanted = value.toLowerCase();
  if (Array.isArray(fact)) return fact.some((item) => typeof item === 'string' && item.toLowerCase() === wanted);
  return text(fact).toLowerCase().includes(wanted);
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

export const OPERATOR_IMPLEMENTATIONS: Record<OperatorName, (fact: unknown, value: unknown) => boolean> = {
  equal: (fact, value) => fact === value,
  notEqual: (fact, value) => fact !== value,
  in: (fact, value) => Array.isArray(value) && value.includes(fact),
  notIn: (fact, value) => Array.isArray(value) && !value.includes(fact),
  contains,
  notContains: (fact, value) => !contains(fact, value),
  startsWith: (fact, value) => typeof value === 'string' && text(fact).toLowerCase().startsWith(value.toLowerCase()),
  matchesUrlPattern: (fact, value) => typeof value === 'string' && matchesUrlPattern(fact, value),
  hasWord: (fact, value) => (typeof value === 'string' || Array.isArray(value)) && hasWord(fact, value as string[]),
  isPresent: (fact, value) => (value === true ? !isEmpty(fact) : isEmpty(fact)),
  greaterThan: (fact, value) => isNumber(fact) && isNumber(value) && fact > value,
  greaterThanInclusive: (fact, value) => isNumber(fact) && isNumber(value) && fact >= value,
  lessThan: (fact, value) => isNumber(fact) && isNumber(value) && fact < value,
  lessThanInclusive: (fact, value) => isNumber(fact) && isNumber(value) && fact <= value,
};

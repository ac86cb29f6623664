// The rule presets shipped in rules/presets/*.json. Inbox settings switch the first five on
// (greeting, e-mail capture, out-of-office, CSAT, bot hand-off); the FAQ bot is a starting point
// an administrator copies into a rule set of their own.
import { readFileSync } from 'node:fs';
import { parseRuleSet, type RuleSet } from './document.ts';

export const PRESET_KEYS = ['out-of-office', 'greeting', 'email-capture', 'csat', 'bot-handoff', 'faq-bot'] as const;
export type PresetKey = (typeof PRESET_KEYS)[number];

function loadPreset(key: PresetKey): RuleSet {
  const text = readFileSync(new URL(`../presets/${key}.json`, import.meta.url), 'utf8');
  const parsed = parseRuleSet(text);
  if (!parsed.ok) throw new Error(`rules/presets/${key}.json is invalid: ${parsed.errors.map((error) => `${error.path} ${error.message}`).join('; ')}`);
  return parsed.ruleSet;
}

export const PRESETS: Readonly<Record<PresetKey, RuleSet>> = Object.fromEntries(PRESET_KEYS.map((key) => [key, loadPreset(key)])) as Record<PresetKey, RuleSet>;

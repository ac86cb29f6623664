// Texts rules write: the locale's version of a localized text, with {{contact.name}}-style
// variables filled in (unknown variables become empty; nothing in a text is ever evaluated).
import type { LocalizedText, RuleLocale } from './actions.ts';

export const TEMPLATE_VARIABLES = [
  'contact.name',
  'contact.email',
  'contact.phone',
  'inbox.name',
  'inbox.greeting',
  'inbox.outOfOfficeMessage',
  'conversation.displayId',
  'agent.name',
] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

export function textForLocale(text: LocalizedText, locale: RuleLocale): string {
  if (typeof text === 'string') return text;
  return text[locale] || text.en || text.es || '';
}

export function renderTemplate(template: string, variables: Partial<Record<TemplateVariable, string | number | null | undefined>>): string {
  return template.replace(/\{\{\s*([a-zA-Z]+\.[a-zA-Z]+)\s*\}\}/g, (_match, name: string) => {
    const value = (variables as Record<string, unknown>)[name];
    return value === null || value === undefined ? '' : String(value);
  });
}

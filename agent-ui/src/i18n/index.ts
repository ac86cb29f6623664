// Console translations: English and Spanish, chosen from the agent's locale once signed in.
// Messages become functions here (`{name}` placeholders only), so the bundle ships vue-i18n's
// runtime without its message compiler — and nothing is compiled with eval under the CSP.
import { createI18n, type MessageContext, type MessageFunction } from 'vue-i18n';
import en from './en.ts';
import es from './es.ts';

export type Locale = 'en' | 'es';

type Tree = { [key: string]: string | Tree };
type Compiled<T> = { [K in keyof T]: T[K] extends string ? MessageFunction : Compiled<T[K]> };

function toFunctions<T extends Tree>(tree: T): Compiled<T> {
  const compiled: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tree)) {
    compiled[key] = typeof value === 'string'
      ? (context: MessageContext) => value.replace(/\{(\w+)\}/g, (_placeholder, name: string) => String(context.named(name) ?? ''))
      : toFunctions(value);
  }
  return compiled as Compiled<T>;
}

function browserLocale(): Locale {
  return navigator.language.toLowerCase().startsWith('es') ? 'es' : 'en';
}

const short = { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' } as const;
const day = { month: 'short', day: 'numeric' } as const;

export const i18n = createI18n({
  legacy: false,
  locale: browserLocale(),
  fallbackLocale: 'en',
  messages: { en: toFunctions(en), es: toFunctions(es) },
  datetimeFormats: { en: { short, day }, es: { short, day } },
});

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  document.documentElement.lang = locale;
}

// Console translations: English and Spanish, chosen from the agent's locale once signed in.
import { createI18n } from 'vue-i18n';
import en from './en.ts';
import es from './es.ts';

export type Locale = 'en' | 'es';

function browserLocale(): Locale {
  return navigator.language.toLowerCase().startsWith('es') ? 'es' : 'en';
}

export const i18n = createI18n({
  legacy: false,
  locale: browserLocale(),
  fallbackLocale: 'en',
  messages: { en, es },
  datetimeFormats: {
    en: { short: { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' } },
    es: { short: { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' } },
  },
});

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  document.documentElement.lang = locale;
}

// An API error as a readable, translated sentence (by its stable code).
import { i18n } from '../i18n/index.ts';
import { ApiError } from './graphql-client.ts';

export function errorMessage(error: unknown): string {
  const code = error instanceof ApiError ? error.code : 'http/failed';
  const key = `errors.${code.replace(/\W/g, '_')}`;
  const { t, te } = i18n.global;
  const text = te(key) ? t(key) : t('errors.generic', { code });
  // Which input was refused is only in the server's (English) message; better than nothing.
  return code === 'input/invalid' && error instanceof ApiError && error.message !== code ? `${text} (${error.message})` : text;
}

// A guess at the language of a visitor's message, for rules that answer in it: counts common
// words of each supported language. Short or mixed texts answer "unknown".
import { wordsOf } from '@charla/rules';

const COMMON_WORDS: Record<'en' | 'es', ReadonlySet<string>> = {
  en: new Set(['the', 'and', 'is', 'are', 'you', 'i', 'my', 'to', 'of', 'it', 'for', 'with', 'hello', 'hi', 'thanks', 'please', 'what', 'how', 'can', 'do', 'have', 'want', 'need', 'this', 'order', 'help']),
  es: new Set(['el', 'la', 'los', 'las', 'y', 'es', 'de', 'que', 'en', 'un', 'una', 'por', 'para', 'con', 'mi', 'hola', 'gracias', 'quiero', 'tengo', 'como', 'donde', 'cuando', 'necesito', 'ayuda', 'pedido', 'buenas', 'buenos', 'dias', 'tardes']),
};

export function guessLanguage(text: string): 'en' | 'es' | 'unknown' {
  const words = wordsOf(text.slice(0, 2_000));
  let en = 0;
  let es = 0;
  for (const word of words) {
    if (COMMON_WORDS.en.has(word)) en += 1;
    if (COMMON_WORDS.es.has(word)) es += 1;
  }
  if (en === es) return 'unknown';
  return en > es ? 'en' : 'es';
}

// Operators compare bounded input by hand: no regular expression written by a user ever runs.
import { describe, expect, it } from 'vitest';
import { hasWord, matchesUrlPattern, OPERATOR_IMPLEMENTATIONS } from '../../rules/src/index.ts';

describe('hasWord', () => {
  it('matches whole words and phrases, ignoring case and accents', () => {
    expect(hasWord('Quiero hablar con un AGENTE, por favor', ['agente'])).toBe(true);
    expect(hasWord('¿Tenéis atención al cliente?', 'atencion')).toBe(true);
    expect(hasWord('necesito hablar con alguien ya', ['hablar con alguien'])).toBe(true);
    expect(hasWord('la agencia de viajes', ['agente'])).toBe(false);
    expect(hasWord('hablar, con... alguien', ['hablar con alguien'])).toBe(true);
    expect(hasWord('con alguien hablar', ['hablar con alguien'])).toBe(false);
  });

  it('stays fast on long adversarial text', () => {
    const text = 'a '.repeat(50_000);
    expect(hasWord(text, ['a a a a a a a a a b'])).toBe(false);
  });
});

describe('matchesUrlPattern', () => {
  it('treats * as any run of characters and nothing else as special', () => {
    expect(matchesUrlPattern('https://shop.example/pricing?plan=pro', 'https://shop.example/pricing*')).toBe(true);
    expect(matchesUrlPattern('https://shop.example/es/pricing', '*/pricing')).toBe(true);
    expect(matchesUrlPattern('https://shop.example/pricing', 'https://shop.example/pricing')).toBe(true);
    expect(matchesUrlPattern('https://shop.example/pricingX', 'https://shop.example/pricing')).toBe(false);
    expect(matchesUrlPattern('https://shopXexample/', 'https://shop.example/*')).toBe(false);
    expect(matchesUrlPattern('HTTPS://SHOP.EXAMPLE/A', 'https://shop.example/*')).toBe(true);
  });

  it('stays fast on a pattern that would make a regular expression backtrack', () => {
    expect(matchesUrlPattern('a'.repeat(20_000), `${'*a'.repeat(200)}b`)).toBe(false);
  });
});

describe('the other operators', () => {
  it('compare like the vocabulary says', () => {
    expect(OPERATOR_IMPLEMENTATIONS.contains(['billing', 'vip'], 'VIP')).toBe(true);
    expect(OPERATOR_IMPLEMENTATIONS.contains('Mi Factura de marzo', 'factura')).toBe(true);
    expect(OPERATOR_IMPLEMENTATIONS.isPresent('', true)).toBe(false);
    expect(OPERATOR_IMPLEMENTATIONS.isPresent(null, false)).toBe(true);
    expect(OPERATOR_IMPLEMENTATIONS.isPresent([], false)).toBe(true);
    expect(OPERATOR_IMPLEMENTATIONS.greaterThan('10', 5)).toBe(false);
    expect(OPERATOR_IMPLEMENTATIONS.in('open', ['open', 'pending'])).toBe(true);
    expect(OPERATOR_IMPLEMENTATIONS.startsWith('Hola equipo', 'hola')).toBe(true);
  });
});

// Evaluation: only the rules of the event and inbox meet the facts; matches come back in the
// order their actions run, and dry-runs explain every condition.
import { describe, expect, it } from 'vitest';
import { parseRuleSet, RuleIndex, withStopProcessing, type RuleSet } from '../../rules/src/index.ts';

const INBOX_A = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const INBOX_B = 'bbbbbbbbbbbbbbbbbbbbbbbb';

function ruleSet(document: Record<string, unknown>): RuleSet {
  const parsed = parseRuleSet({ version: 1, name: 'test', ...document });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.ruleSet;
}

const incoming = { fact: 'message.type', operator: 'equal', value: 'incoming' };
const label = (name: string) => [{ type: 'add_label', params: { labels: [name] } }];

describe('RuleIndex', () => {
  it('orders matches by priority, then document order, and honours stopProcessing within a set', async () => {
    const set = ruleSet({
      rules: [
        { id: 'low', name: 'low', on: 'message.created', priority: 1, conditions: { all: [incoming] }, actions: label('low') },
        { id: 'high', name: 'high', on: 'message.created', priority: 9, conditions: { all: [incoming] }, actions: label('high'), stopProcessing: true },
        { id: 'also-high', name: 'also high', on: 'message.created', priority: 9, conditions: { all: [incoming] }, actions: label('also') },
      ],
    });
    const other = ruleSet({ rules: [{ id: 'other', name: 'other', on: 'message.created', conditions: { all: [incoming] }, actions: label('other') }] });
    const index = new RuleIndex([{ key: 'one', ruleSet: set }, { key: 'two', ruleSet: other }]);
    const { matched, explanations } = await index.evaluate('message.created', INBOX_A, { 'message.type': 'incoming' }, { explain: true });
    expect(matched.map((match) => `${match.ruleSetKey}/${match.rule.id}`)).toEqual(['one/high', 'one/also-high', 'one/low', 'two/other']);
    expect(withStopProcessing(matched).map((match) => `${match.ruleSetKey}/${match.rule.id}`)).toEqual(['one/high', 'two/other']);
    expect(explanations!.find((rule) => rule.ruleId === 'low')).toMatchObject({ matched: false, stopped: true });
  });

  it('keeps inbox rules to their inbox and account-wide rules everywhere', async () => {
    const onlyA = ruleSet({ inboxes: [INBOX_A], rules: [{ id: 'a', name: 'a', on: 'message.created', conditions: { all: [incoming] }, actions: label('a') }] });
    const everywhere = ruleSet({ rules: [{ id: 'all', name: 'all', on: 'message.created', conditions: { all: [incoming] }, actions: label('all') }] });
    const index = new RuleIndex([{ key: 'a', ruleSet: onlyA }, { key: 'all', ruleSet: everywhere }]);
    const ids = async (inbox: string) => (await index.evaluate('message.created', inbox, { 'message.type': 'incoming' })).matched.map((match) => match.rule.id);
    expect(await ids(INBOX_A)).toEqual(['a', 'all']);
    expect(await ids(INBOX_B)).toEqual(['all']);
    expect(index.hasRules('conversation.created', INBOX_A)).toBe(false);
    expect([...index.factsNeeded('message.created', INBOX_A)]).toEqual(['message.type']);
  });

  it('skips disabled rule sets', async () => {
    const index = new RuleIndex([{ key: 'off', ruleSet: ruleSet({ enabled: false, rules: [{ id: 'x', name: 'x', on: 'message.created', conditions: { all: [incoming] }, actions: label('x') }] }) }]);
    expect(index.hasRules('message.created', INBOX_A)).toBe(false);
  });

  it('explains each condition: the fact value seen and its result', async () => {
    const set = ruleSet({
      rules: [
        {
          id: 'vip',
          name: 'VIP billing',
          on: 'message.created',
          conditions: {
            all: [
              { fact: 'message.content', operator: 'hasWord', value: ['factura'] },
              { any: [{ fact: 'contact.customAttributes', path: '$.plan', operator: 'equal', value: 'pro' }, { fact: 'conversation.labels', operator: 'contains', value: 'vip' }] },
            ],
          },
          actions: label('billing'),
        },
      ],
    });
    const index = new RuleIndex([{ key: 'set', ruleSet: set }]);
    const facts = { 'message.content': 'Sobre mi factura', 'contact.customAttributes': { plan: 'free' }, 'conversation.labels': [] };
    const { matched, explanations } = await index.evaluate('message.created', INBOX_A, facts, { explain: true });
    expect(matched).toEqual([]);
    expect(explanations![0]!.conditions).toMatchObject({
      kind: 'all',
      result: false,
      conditions: [
        { kind: 'fact', fact: 'message.content', factValue: 'Sobre mi factura', result: true },
        {
          kind: 'any',
          result: false,
          conditions: [
            { fact: 'contact.customAttributes', path: '$.plan', factValue: 'free', result: false },
            { fact: 'conversation.labels', factValue: [], result: false },
          ],
        },
      ],
    });
  });

  it('gives correct answers to many evaluations at once on one engine', async () => {
    const set = ruleSet({
      rules: Array.from({ length: 20 }, (_, index) => ({
        id: `r${index}`,
        name: `r${index}`,
        on: 'message.created',
        priority: index,
        conditions: { all: [{ fact: 'conversation.messageCount', operator: 'greaterThanInclusive', value: index }] },
        actions: label(`l${index}`),
      })),
    });
    const index = new RuleIndex([{ key: 'set', ruleSet: set }]);
    const counts = Array.from({ length: 50 }, (_, count) => count % 25);
    const results = await Promise.all(counts.map((count) => index.evaluate('message.created', INBOX_A, { 'conversation.messageCount': count })));
    results.forEach((result, position) => expect(result.matched).toHaveLength(Math.min(counts[position]! + 1, 20)));
  });

  it('matches the same rules with its candidate index as when it evaluates every rule', async () => {
    // Rules whose necessary conditions are words, values and lists, inside nested groups.
    const words = ['factura', 'pedido', 'envio', 'agente', 'hola', 'precio'];
    const statuses = ['open', 'pending', 'snoozed', 'resolved'];
    let seed = 7;
    const next = (n: number): number => (seed = (seed * 48_271) % 2_147_483_647) % n;
    const rules = Array.from({ length: 120 }, (_, index) => {
      const single = next(2) === 1;
      const leaves = [
        { fact: 'message.content', operator: 'hasWord', value: [words[next(6)], `${words[next(6)]} ${words[next(6)]}`] },
        { fact: 'conversation.status', operator: single ? 'equal' : 'in', value: single ? statuses[next(4)] : [statuses[next(4)], statuses[next(4)]] },
        { fact: 'conversation.hasAgentReply', operator: 'equal', value: next(2) === 1 },
        { any: [{ fact: 'conversation.labels', operator: 'contains', value: 'vip' }, { fact: 'message.content', operator: 'hasWord', value: 'urgente' }] },
      ];
      const chosen = leaves.filter(() => next(3) > 0);
      return { id: `r${index}`, name: `r${index}`, on: 'message.created', conditions: { all: chosen.length > 0 ? chosen : [leaves[3]] }, actions: label('x') };
    });
    const index = new RuleIndex([{ key: 'set', ruleSet: ruleSet({ rules }) }]);
    for (let sample = 0; sample < 60; sample += 1) {
      const facts = {
        'message.content': Array.from({ length: 1 + next(5) }, () => words[next(6)]).join(' ') + (next(4) === 0 ? ' ¡URGENTE!' : ''),
        'conversation.status': statuses[next(4)],
        'conversation.hasAgentReply': next(2) === 1,
        'conversation.labels': next(3) === 0 ? ['vip'] : [],
      };
      const fast = (await index.evaluate('message.created', INBOX_A, facts)).matched.map((match) => match.rule.id);
      const full = (await index.evaluate('message.created', INBOX_A, facts, { explain: true })).explanations!.filter((rule) => rule.matched || rule.stopped).map((rule) => rule.ruleId);
      expect(fast).toEqual(full);
    }
  });
});

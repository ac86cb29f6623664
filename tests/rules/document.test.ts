// Rule-set documents are checked with errors that name the JSON path, before anything is stored.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { LIMITS, PRESETS, parseRuleSet, RULE_SET_SCHEMA_PATH, ruleSetJsonSchemaText, type RuleError } from '../../rules/src/index.ts';

const rule = (overrides: Record<string, unknown> = {}) => ({
  id: 'billing',
  name: 'Billing questions',
  on: 'message.created',
  conditions: { all: [{ fact: 'message.content', operator: 'hasWord', value: ['factura'] }] },
  actions: [{ type: 'add_label', params: { labels: ['billing'] } }],
  ...overrides,
});
const document = (rules: unknown[] = [rule()], overrides: Record<string, unknown> = {}) => ({ version: 1, name: 'Billing', rules, ...overrides });

function errorsOf(input: unknown): RuleError[] {
  const parsed = parseRuleSet(input);
  if (parsed.ok) throw new Error('expected the document to be refused');
  return parsed.errors;
}

describe('a valid document', () => {
  it('comes back with its defaults filled in', () => {
    const parsed = parseRuleSet(document());
    expect(parsed).toMatchObject({
      ok: true,
      ruleSet: { version: 1, name: 'Billing', description: '', enabled: true, inboxes: ['*'], rules: [{ id: 'billing', priority: 0, stopProcessing: false }] },
    });
  });

  it('may be given as JSON text', () => {
    expect(parseRuleSet(JSON.stringify(document())).ok).toBe(true);
  });

  it('includes every preset shipped', () => {
    for (const preset of Object.values(PRESETS)) expect(parseRuleSet(preset).ok).toBe(true);
  });
});

describe('an invalid document', () => {
  it('names the path of a wrong type', () => {
    expect(errorsOf(document([rule({ priority: 'high' })]))).toEqual([{ path: 'rules[0].priority', message: expect.stringContaining('number') }]);
    expect(errorsOf({ ...document(), enabled: 'yes' })[0]!.path).toBe('enabled');
    expect(errorsOf({ ...document(), version: 2 })).toEqual([{ path: 'version', message: 'must be 1 (the only document version so far)' }]);
  });

  it('names an unknown fact, operator, event and action', () => {
    expect(errorsOf(document([rule({ conditions: { all: [{ fact: 'message.mood', operator: 'equal', value: 'x' }] } })]))).toEqual([
      { path: 'rules[0].conditions.all[0].fact', message: 'unknown fact "message.mood"' },
    ]);
    expect(errorsOf(document([rule({ conditions: { any: [{ fact: 'message.content', operator: 'regex', value: '.*' }] } })]))).toEqual([
      { path: 'rules[0].conditions.any[0].operator', message: 'unknown operator "regex"' },
    ]);
    expect(errorsOf(document([rule({ on: 'message.deleted' })]))[0]).toMatchObject({ path: 'rules[0].on', message: expect.stringContaining('unknown event "message.deleted"') });
    expect(errorsOf(document([rule({ actions: [{ type: 'launch_rocket', params: {} }] })]))[0]).toMatchObject({
      path: 'rules[0].actions[0].type',
      message: expect.stringContaining('unknown action type'),
    });
  });

  it('names bad action params', () => {
    expect(errorsOf(document([rule({ actions: [{ type: 'send_webhook', params: { url: 'file:///etc/passwd' } }] })]))).toEqual([
      { path: 'rules[0].actions[0].params.url', message: 'must be an http or https address' },
    ]);
    expect(errorsOf(document([rule({ actions: [{ type: 'assign_team', params: { teamId: { $ne: null } } }] })]))[0]!.path).toBe('rules[0].actions[0].params.teamId');
    expect(errorsOf(document([rule({ actions: [{ type: 'change_status', params: { status: 'open', snooze: 'tomorrow' } }] })]))[0]).toMatchObject({
      path: 'rules[0].actions[0].params',
      message: 'snooze and snoozeMinutes are only for status snoozed',
    });
    expect(errorsOf(document([rule({ actions: [] })]))).toEqual([{ path: 'rules[0].actions', message: 'needs at least one action' }]);
  });

  it('refuses a fact the event does not carry, an operator that does not fit, and a value of the wrong kind', () => {
    expect(errorsOf(document([rule({ on: 'conversation.created', conditions: { all: [{ fact: 'message.content', operator: 'contains', value: 'x' }] } })]))).toEqual([
      { path: 'rules[0].conditions.all[0].fact', message: 'message.content is not known for conversation.created events (only for message.created)' },
    ]);
    expect(errorsOf(document([rule({ conditions: { all: [{ fact: 'conversation.status', operator: 'greaterThan', value: 3 }] } })]))[0]).toMatchObject({
      path: 'rules[0].conditions.all[0].operator',
      message: expect.stringContaining('greaterThan does not apply to conversation.status'),
    });
    expect(errorsOf(document([rule({ conditions: { all: [{ fact: 'conversation.status', operator: 'equal', value: 'closed' }] } })]))).toEqual([
      { path: 'rules[0].conditions.all[0].value', message: 'must be one of open, pending, snoozed, resolved' },
    ]);
    expect(errorsOf(document([rule({ conditions: { all: [{ fact: 'conversation.assignee', operator: 'equal', value: { $gt: '' } }] } })]))).toEqual([
      { path: 'rules[0].conditions.all[0].value', message: 'must be an id (24 hexadecimal characters)' },
    ]);
    expect(errorsOf(document([rule({ conditions: { all: [{ fact: 'contact.customAttributes', operator: 'equal', value: 'pro' }] } })]))).toEqual([
      { path: 'rules[0].conditions.all[0].path', message: 'contact.customAttributes needs "path" naming the attribute, like "$.plan"' },
    ]);
  });

  it('refuses repeated rule ids and a group with two keys', () => {
    expect(errorsOf(document([rule(), rule()]))).toEqual([{ path: 'rules[1].id', message: 'repeats the id of rules[0]' }]);
    expect(errorsOf(document([rule({ conditions: { all: [], any: [] } })]))).toEqual([{ path: 'rules[0].conditions', message: 'a group has exactly one key: all, any or not' }]);
  });

  it('refuses conditions nested too deep without walking them recursively', () => {
    let conditions: Record<string, unknown> = { fact: 'message.content', operator: 'contains', value: 'x' };
    for (let depth = 0; depth < 100_000; depth += 1) conditions = { not: conditions };
    const errors = errorsOf(document([rule({ conditions: { all: [conditions] } })]));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(`conditions are nested more than ${LIMITS.conditionDepth} groups deep`);
    expect(errors[0]!.path).toMatch(/^rules\[0\]\.conditions\.all\[0\](\.not)+$/);
  });

  it('refuses JSON text nested too deep before parsing it', () => {
    const leaf = '{"fact":"message.content","operator":"contains","value":"x"}';
    const conditions = `${'{"not":'.repeat(50_000)}${leaf}${'}'.repeat(50_000)}`;
    const text = `{"version":1,"name":"deep","rules":[{"id":"a","name":"a","on":"message.created","conditions":{"all":[${conditions}]},"actions":[{"type":"send_csat"}]}]}`;
    expect(errorsOf(text)).toEqual([{ path: '', message: 'is nested more than 64 levels deep' }]);
  });

  it('refuses a 10 MB document, as text or as an object', () => {
    const huge = document([rule({ name: 'x'.repeat(10 * 1024 * 1024) })]);
    expect(errorsOf(huge)).toEqual([{ path: '', message: `is larger than ${LIMITS.documentBytes / 1024} KB` }]);
    expect(errorsOf(JSON.stringify(huge))).toEqual([{ path: '', message: `is larger than ${LIMITS.documentBytes / 1024} KB` }]);
  });

  it('says what is wrong with text that is not JSON', () => {
    expect(errorsOf('{"version": 1,')[0]).toMatchObject({ path: '', message: expect.stringContaining('is not valid JSON') });
  });
});

describe('the JSON Schema', () => {
  it('in rules/schema is the one the definitions make (regenerate with npm run rules -- schema)', async () => {
    expect(await readFile(RULE_SET_SCHEMA_PATH, 'utf8')).toBe(ruleSetJsonSchemaText());
  });

  it('lists the vocabulary for editors', () => {
    const text = ruleSetJsonSchemaText();
    for (const word of ['message.content', 'hasWord', 'send_webhook', 'conversation.status_changed']) expect(text).toContain(`"${word}"`);
  });
});

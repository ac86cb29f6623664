// Typing `/` in a reply lists the account's canned responses: short-code prefix matches first,
// then short-code substrings, then content matches; the search is literal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CannedResponse } from '../../../server/src/db/models/canned-response.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildInbox, type BuiltAgent } from '../../support/factories.ts';

let charla: TestCharla;
let agent: BuiltAgent;
let visitorToken: string;

const LOOKUP = `query($search: String) { cannedResponses(search: $search) { id shortCode content } }`;

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  agent = await buildAgent(account._id);
  visitorToken = (await buildContact(await buildInbox(account._id))).visitorToken;
  await CannedResponse.insertMany([
    { accountId: account._id, shortCode: 'thanks', content: 'We ship worldwide, thank you!' },
    { accountId: account._id, shortCode: 'free-shipping', content: 'Orders over 50 € travel free.' },
    { accountId: account._id, shortCode: 'shipping-time', content: 'Delivery takes 3 days.' },
    { accountId: account._id, shortCode: 'Ship', content: 'Where should we send it?' },
    { accountId: account._id, shortCode: 'hello', content: 'Hi there!' },
    { accountId: account._id, shortCode: 'regex', content: 'Prices like 10.5 (approx.)' },
  ]);
  const otherAccount = await buildAccount();
  await CannedResponse.create({ accountId: otherAccount._id, shortCode: 'ship-secret', content: 'Another account ships too' });
});
afterAll(stopAllTestCharlas);

const codes = (data: { cannedResponses: Array<{ shortCode: string }> }): string[] => data.cannedResponses.map((response) => response.shortCode);

describe('cannedResponses', () => {
  it('ranks short-code prefix matches, then short-code substrings, then content matches, ignoring case', async () => {
    const data = await charla.mutate(LOOKUP, { search: 'ship' }, agent.token);
    expect(codes(data)).toEqual(['Ship', 'shipping-time', 'free-shipping', 'thanks']);
    expect(data.cannedResponses[0]).toEqual({ id: expect.stringMatching(/^[0-9a-f]{24}$/), shortCode: 'Ship', content: 'Where should we send it?' });
  });

  it('lists every canned response of the account by short code when there is no search', async () => {
    const data = await charla.mutate(LOOKUP, {}, agent.token);
    expect(codes(data).map((code) => code.toLowerCase()).sort()).toEqual(['free-shipping', 'hello', 'regex', 'ship', 'shipping-time', 'thanks']);
  });

  it('searches literally: pattern characters match only themselves', async () => {
    expect(codes(await charla.mutate(LOOKUP, { search: '.*' }, agent.token))).toEqual([]);
    expect(codes(await charla.mutate(LOOKUP, { search: '10.5 (' }, agent.token))).toEqual(['regex']);
  });

  it('accepts the slash the reply box starts with', async () => {
    expect(codes(await charla.mutate(LOOKUP, { search: '/hel' }, agent.token))).toEqual(['hello']);
  });

  it('returns at most 50', async () => {
    const account = await buildAccount();
    const busy = await buildAgent(account._id);
    await CannedResponse.insertMany(Array.from({ length: 60 }, (_, index) => ({ accountId: account._id, shortCode: `reply-${index}`, content: 'x' })));
    expect((await charla.mutate(LOOKUP, { search: 'reply' }, busy.token)).cannedResponses).toHaveLength(50);
    expect((await charla.mutate(LOOKUP, {}, busy.token)).cannedResponses).toHaveLength(50);
  });

  it('is for agents only and refuses an object as the search', async () => {
    expect((await charla.graphql(LOOKUP, { search: 'ship' })).errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
    expect((await charla.graphql(LOOKUP, { search: 'ship' }, visitorToken)).errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    const operator = await charla.graphql(LOOKUP, { search: { $regex: '.*' } }, agent.token);
    expect(['BAD_USER_INPUT', 'input/invalid']).toContain(operator.errors?.[0]?.extensions?.code);
  });
});

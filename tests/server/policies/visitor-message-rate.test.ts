// A visitor flooding the widget: a burst of 20 messages goes through, then widget/rate_limited
// until the bucket refills at one a second; nothing accepted is lost, other visitors write on,
// and an operator can raise or switch off the limit.
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../server/src/config.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { assertVisitorMayWrite, TokenBuckets } from '../../../server/src/policies/visitor-message-rate.ts';
import { startTestCharla, stopAllTestCharlas, type GraphQLResult, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox } from '../../support/factories.ts';
import { securityTally } from '../../support/security-tally.ts';
import { openWidget } from '../widget/visitor-client.ts';

const tally = securityTally('visitor message rate');
const SEND = `mutation($content: String!) { sendVisitorMessage(content: $content) { id content } }`;
const START = `mutation($content: String!) { startNewConversation(content: $content) { id } }`;

let charla: TestCharla;
let inbox: InboxDoc;
/** The server's clock stands still (a slow machine must not refill buckets) and moves only by this. */
let clockOffset = 0;

beforeAll(async () => {
  charla = await startTestCharla();
  const start = Date.now();
  charla.services.now = () => new Date(start + clockOffset);
  const account = await buildAccount();
  const agent = await buildAgent(account._id);
  inbox = await buildInbox(account._id, { memberIds: [agent.user._id] });
});

afterAll(stopAllTestCharlas);

const code = (result: GraphQLResult): string | undefined => result.errors?.[0]?.extensions?.code;

async function storedContents(visitorToken: string): Promise<string[]> {
  const data = await charla.mutate(`{ visitorMessages(first: 100) { edges { node { content } } } }`, {}, visitorToken);
  return data.visitorMessages.edges.map((edge: { node: { content: string } }) => edge.node.content);
}

describe('a visitor writing faster than a person does', () => {
  it('gets widget/rate_limited after a burst of 20, loses none of the accepted messages, and writes again once the bucket refills', async () => {
    const { visitorToken } = await openWidget(charla, inbox.websiteToken!);
    const sent: string[] = [];
    for (let n = 1; n <= 20; n += 1) {
      const result = await charla.graphql(SEND, { content: `mensaje ${n}` }, visitorToken);
      expect({ n, code: code(result) }).toEqual({ n, code: undefined });
      sent.push(`mensaje ${n}`);
      tally.record('allowed');
    }
    const refused = await charla.graphql(SEND, { content: 'uno de más' }, visitorToken);
    expect(tally.expectDenied(code(refused) === 'widget/rate_limited')).toBe(true);
    expect(refused.errors?.[0]?.extensions?.details).toEqual({ retryAfterSeconds: 1 });
    expect(refused.data).toBeNull();
    // Starting a new conversation is writing too.
    expect(tally.expectDenied(code(await charla.graphql(START, { content: 'otra' }, visitorToken)) === 'widget/rate_limited')).toBe(true);
    expect(await storedContents(visitorToken)).toEqual(sent);
    expect(await Message.countDocuments({ content: { $in: ['uno de más', 'otra'] } })).toBe(0);

    // Another visitor of the same inbox is not affected.
    const other = await openWidget(charla, inbox.websiteToken!);
    expect(code(await charla.graphql(SEND, { content: 'hola' }, other.visitorToken))).toBeUndefined();

    clockOffset += 1_000;
    expect(code(await charla.graphql(SEND, { content: 'un segundo después' }, visitorToken))).toBeUndefined();
    expect(code(await charla.graphql(SEND, { content: 'demasiado pronto' }, visitorToken))).toBe('widget/rate_limited');
    clockOffset += 20_000;
    for (let n = 1; n <= 20; n += 1) expect(code(await charla.graphql(SEND, { content: `ráfaga ${n}` }, visitorToken))).toBeUndefined();
    expect((await storedContents(visitorToken)).length).toBe(20 + 1 + 20);
  });

  it('keeps up with a visitor who writes once a second for as long as they like', async () => {
    const { visitorToken } = await openWidget(charla, inbox.websiteToken!);
    for (let n = 1; n <= 60; n += 1) {
      clockOffset += 1_000;
      expect({ n, code: code(await charla.graphql(SEND, { content: `línea ${n}` }, visitorToken)) }).toEqual({ n, code: undefined });
    }
  });
});

describe('the limit', () => {
  it('is raised with VISITOR_MESSAGES_PER_MINUTE and VISITOR_MESSAGE_BURST, and off with 0 per minute', async () => {
    expect(loadConfig({})).toMatchObject({ visitorMessageBurst: 20, visitorMessagesPerMinute: 60 });
    expect(loadConfig({ VISITOR_MESSAGES_PER_MINUTE: '600', VISITOR_MESSAGE_BURST: '100' })).toMatchObject({ visitorMessageBurst: 100, visitorMessagesPerMinute: 600 });
    expect(() => loadConfig({ VISITOR_MESSAGE_BURST: '0' })).toThrow(/VISITOR_MESSAGE_BURST/);
    expect(() => loadConfig({ VISITOR_MESSAGES_PER_MINUTE: '-1' })).toThrow(/VISITOR_MESSAGES_PER_MINUTE/);

    const visitor = new Types.ObjectId();
    const at = new Date();
    const server = (env: NodeJS.ProcessEnv) => ({ ...charla.services, config: loadConfig(env), now: () => at });
    const unlimited = server({ VISITOR_MESSAGES_PER_MINUTE: '0' });
    for (let n = 1; n <= 1_000; n += 1) assertVisitorMayWrite(unlimited, visitor);
    const raised = server({ VISITOR_MESSAGE_BURST: '100' });
    for (let n = 1; n <= 100; n += 1) assertVisitorMayWrite(raised, visitor);
    expect(() => assertVisitorMayWrite(raised, visitor)).toThrow(expect.objectContaining({ code: 'widget/rate_limited' }));
  });

  it('keeps a bounded number of visitors in memory, forgetting the idlest first', () => {
    const buckets = new TokenBuckets(2, 1, 3);
    for (const visitor of ['a', 'b', 'c', 'd']) buckets.take(visitor, 0);
    expect(buckets.size).toBe(3);
    // "b" and "c" are remembered with one message left; "a" was forgotten and starts afresh.
    expect(buckets.take('b', 0).allowed).toBe(true);
    expect(buckets.take('b', 0)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(buckets.take('a', 0).allowed).toBe(true);
    expect(buckets.take('a', 0).allowed).toBe(true);
    expect(buckets.size).toBe(3);
  });
});

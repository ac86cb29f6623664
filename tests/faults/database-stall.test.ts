// The database stops answering (embedded-mongo SIGSTOPped) for longer than the server's database
// timeout: requests fail with 'database/unavailable' instead of hanging, /healthz says 503, and
// once the database runs again the same server process answers normally — nothing acknowledged
// is lost, and a send retried with its client id is stored once.
import { ObjectId } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUpInstallations, eventually, startInstallation } from './installation.ts';

// The server gives up on the database after this long (DATABASE_TIMEOUT_SECONDS); the stall lasts longer.
const DATABASE_TIMEOUT_SECONDS = 2;
// A request that neither answers nor fails by then is hanging: the test fails instead of waiting on.
const NO_HANG_MS = 45_000;

const SEND_VISITOR = `mutation($content: String!, $clientMessageId: String) { sendVisitorMessage(content: $content, clientMessageId: $clientMessageId) { id content } }`;
const CONVERSATIONS = `{ conversations(first: 5) { edges { node { id status } } } }`;

afterEach(cleanUpInstallations);

async function post(url: string, query: string, variables: Record<string, unknown>, token?: string) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(NO_HANG_MS),
  });
  return (await response.json()) as { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

describe('a stalled database', () => {
  it('gives clients database/unavailable and /healthz 503 while it stalls, and the same server recovers when it answers again', async () => {
    const installation = await startInstallation({ DATABASE_TIMEOUT_SECONDS: String(DATABASE_TIMEOUT_SECONDS) });
    const server = installation.charla;
    const adminToken = await installation.login();
    const { widgetSession } = await installation.mutate(`mutation($websiteToken: String!) { widgetSession(websiteToken: $websiteToken) { visitorToken } }`, {
      websiteToken: installation.websiteToken,
    });
    const visitorToken: string = widgetSession.visitorToken;
    const before = (await installation.mutate(SEND_VISITOR, { content: 'Antes del corte', clientMessageId: 'before-stall' }, visitorToken)).sendVisitorMessage;

    installation.mongo.signal('SIGSTOP');
    try {
      const [visitorSend, agentList, health] = await Promise.all([
        post(server.url, SEND_VISITOR, { content: 'Durante el corte', clientMessageId: 'during-stall' }, visitorToken),
        post(server.url, CONVERSATIONS, {}, adminToken),
        fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(NO_HANG_MS) }),
      ]);
      expect(visitorSend.errors?.[0]?.extensions?.code).toBe('database/unavailable');
      expect(visitorSend.errors?.[0]?.message).toMatch(/database/i);
      expect(agentList.errors?.[0]?.extensions?.code).toBe('database/unavailable');
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'degraded', database: 'down' });
    } finally {
      installation.mongo.signal('SIGCONT');
    }

    // The same process, without a restart, answers normally again.
    await eventually('/healthz to say 200', async () => ((await fetch(`${server.url}/healthz`)).status === 200 ? true : undefined));
    expect(installation.charla).toBe(server);
    expect(server.child.exitCode).toBeNull();
    const listed = await post(server.url, CONVERSATIONS, {}, adminToken);
    expect(listed.errors).toBeUndefined();
    expect(listed.data.conversations.edges).toHaveLength(1);

    // The visitor sends again what failed, with the same client id: whether or not the stalled
    // attempt reached the database, the conversation holds it once.
    const retried = await post(server.url, SEND_VISITOR, { content: 'Durante el corte', clientMessageId: 'during-stall' }, visitorToken);
    expect(retried.errors).toBeUndefined();
    const after = (await installation.mutate(SEND_VISITOR, { content: 'Después del corte', clientMessageId: 'after-stall' }, visitorToken)).sendVisitorMessage;

    const messages = installation.db.collection('messages');
    const conversationId = (await messages.findOne({ _id: new ObjectId(before.id) }))!.conversationId;
    const visitorMessages = await messages.find({ conversationId, 'sender.type': 'contact' }).sort({ _id: 1 }).toArray();
    expect(visitorMessages.map((message) => message.content)).toEqual(['Antes del corte', 'Durante el corte', 'Después del corte']);
    expect(visitorMessages.map((message) => String(message._id))).toEqual([before.id, retried.data.sendVisitorMessage.id, after.id]);
  });
});

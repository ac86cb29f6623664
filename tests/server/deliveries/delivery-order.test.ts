// A conversation's replies reach the channel in the order they were written: while an earlier one
// waits for another try, a later one waits too (without spending its tries), and goes once the
// earlier one is sent — or failed for good, which holds nobody any longer.
import { sign } from '@charla/channels';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import mongoose, { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import { earlierPendingFilter } from '../../../server/src/jobs/deliver-channel-message.ts';
import { JOB_NAMES, JOBS_COLLECTION } from '../../../server/src/jobs/scheduler.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, type BuiltAgent } from '../../support/factories.ts';

let charla: TestCharla;
let admin: BuiltAgent;

/** A callback that answers each message (by its text) with the next status of its plan, then 200. */
async function startReceiver(plans: Record<string, number[]>) {
  const received: Array<{ content: string; status: number }> = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const { content } = JSON.parse(body).message as { content: string };
      const status = plans[content]?.shift() ?? 200;
      received.push({ content, status });
      response.statusCode = status;
      response.end(status === 200 ? JSON.stringify({ id: `crm-${received.length}` }) : 'busy');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/charla`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function conversationWithCallback(callbackUrl: string) {
  const { createInbox: inbox } = await charla.mutate(
    `mutation($input: CreateInboxInput!) { createInbox(input: $input) { id hmacSecret } }`,
    { input: { name: `CRM ${new Types.ObjectId()}`, channelType: 'API', channelConfig: { callbackUrl } } },
    admin.token,
  );
  const body = Buffer.from(JSON.stringify({ contact: { sourceId: `crm-${new Types.ObjectId()}`, name: 'Lucía' }, message: { externalId: `in-${new Types.ObjectId()}`, content: 'Hola' } }));
  await fetch(`${charla.url}/channels/${inbox.id}/inbound`, { method: 'POST', headers: { 'x-charla-signature': sign(inbox.hmacSecret, body, new Date()) }, body });
  return String((await Conversation.findOne({ inboxId: inbox.id }).lean())!._id);
}

async function reply(conversationId: string, content: string) {
  await charla.mutate(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId, content } }, admin.token);
}

/** The conversation's replies once none is pending any more. */
async function allSettled(conversationId: string, count: number) {
  for (;;) {
    const replies = await Message.find({ conversationId, messageType: 'outgoing' }).sort({ _id: 1 }).lean();
    if (replies.length === count && replies.every((message) => message.status !== 'pending')) return replies;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  charla = await startTestCharla({}, { OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1', DELIVERY_RETRY_BASE_SECONDS: '0.2' });
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator' });
});

afterAll(stopAllTestCharlas);

describe('delivery order in a conversation', () => {
  it('a later reply waits while an earlier one is retried, and arrives after it, its own tries unspent', async () => {
    const receiver = await startReceiver({ Primero: [503, 503] });
    const conversationId = await conversationWithCallback(receiver.url);
    await reply(conversationId, 'Primero');
    await reply(conversationId, 'Segundo');

    const [first, second] = await allSettled(conversationId, 2);
    expect([first!.status, second!.status]).toEqual(['sent', 'sent']);
    expect(receiver.received).toEqual([
      { content: 'Primero', status: 503 },
      { content: 'Primero', status: 503 },
      { content: 'Primero', status: 200 },
      { content: 'Segundo', status: 200 },
    ]);
    // The second one waited as its first try: one job, never a second try.
    const jobs = await mongoose.connection.db!.collection(JOBS_COLLECTION).find({ name: JOB_NAMES.deliverChannelMessage, 'data.messageId': String(second!._id) }).toArray();
    expect(jobs.map((job) => job.data.attempt)).toEqual(['1']);
    await receiver.close();
  });

  it('an earlier reply that fails for good holds the later ones no longer; they still go in order', async () => {
    const receiver = await startReceiver({ Uno: [503, 404] });
    const conversationId = await conversationWithCallback(receiver.url);
    await reply(conversationId, 'Uno');
    await reply(conversationId, 'Dos');
    await reply(conversationId, 'Tres');

    const replies = await allSettled(conversationId, 3);
    expect(replies.map((message) => [message.content, message.status])).toEqual([
      ['Uno', 'failed'],
      ['Dos', 'sent'],
      ['Tres', 'sent'],
    ]);
    expect(replies[0]!.failureReason).toBe('the callback answered HTTP 404 (after 2 tries)');
    expect(receiver.received.map((request) => request.content)).toEqual(['Uno', 'Uno', 'Dos', 'Tres']);
    await receiver.close();
  });

  it('finds earlier pending replies in the index of pending messages', async () => {
    const any = (await Message.findOne({ messageType: 'outgoing' }).lean())!;
    const explain = (await Message.find(earlierPendingFilter(any)).explain('queryPlanner')) as any;
    const plan = JSON.stringify((Array.isArray(explain) ? explain[0] : explain).queryPlanner.winningPlan);
    expect(plan).not.toContain('COLLSCAN');
    expect(/"indexName":"([^"]+)"/.exec(plan)?.[1]).toBe('conversationId_1_status_1__id_1');
  });
});

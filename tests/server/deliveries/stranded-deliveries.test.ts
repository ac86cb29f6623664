// Deliveries a crash left without a job — the record written, its job never saved — are found by
// the sweeper and sent, once: a channel message left pending, an outbox e-mail left queued, a
// webhook delivery left pending. What has a job of its own (a retry waiting, a try going out right
// now) is left to it, and what is younger than the grace period is not raced.
import { sign } from '@charla/channels';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Types } from 'mongoose';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import { OutboxEmail } from '../../../server/src/db/models/outbox-email.ts';
import { Webhook, WebhookDelivery } from '../../../server/src/db/models/webhook.ts';
import { JOB_NAMES, JOBS_COLLECTION } from '../../../server/src/jobs/scheduler.ts';
import { strandedQueries } from '../../../server/src/jobs/sweep-deliveries.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, type BuiltAgent } from '../../support/factories.ts';
import { startHttpReceiver } from '../../support/http-receiver.ts';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';

const GRACE_MS = 5_000;
let charla: TestCharla;
let admin: BuiltAgent;
let smtp: SmtpSink;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ago = (ms: number) => new Date(Date.now() - ms);

/** An API inbox whose replies go to `callbackUrl`, and a conversation in it. */
async function conversationWithCallback(callbackUrl: string) {
  const { createInbox: inbox } = await charla.mutate(
    `mutation($input: CreateInboxInput!) { createInbox(input: $input) { id hmacSecret } }`,
    { input: { name: `CRM ${new Types.ObjectId()}`, channelType: 'API', channelConfig: { callbackUrl } } },
    admin.token,
  );
  const body = Buffer.from(JSON.stringify({ contact: { sourceId: `crm-${new Types.ObjectId()}`, name: 'Lucía' }, message: { externalId: `in-${new Types.ObjectId()}`, content: 'Hola' } }));
  const response = await fetch(`${charla.url}/channels/${inbox.id}/inbound`, { method: 'POST', headers: { 'x-charla-signature': sign(inbox.hmacSecret, body, new Date()) }, body });
  expect(response.status).toBe(200);
  return (await Conversation.findOne({ inboxId: inbox.id }).lean())!;
}

/** An agent's reply as a crash leaves it: pending since `since`, and no job to send it. */
async function strandedReply(conversation: { _id: Types.ObjectId; accountId: Types.ObjectId; inboxId: Types.ObjectId }, content: string, since: Date) {
  const [message] = await Message.create(
    [{ accountId: conversation.accountId, inboxId: conversation.inboxId, conversationId: conversation._id, messageType: 'outgoing', content, sender: { type: 'agent', id: admin.user._id }, status: 'pending', createdAt: since, updatedAt: since }],
    { timestamps: false },
  );
  return message!;
}

async function settled(messageId: Types.ObjectId) {
  for (;;) {
    const message = await Message.findById(messageId).lean();
    if (message && message.status !== 'pending') return message;
    await sleep(20);
  }
}

const jobsOfMessage = (messageId: Types.ObjectId) =>
  mongoose.connection.db!.collection(JOBS_COLLECTION).find({ name: JOB_NAMES.deliverChannelMessage, 'data.messageId': String(messageId) }).toArray();

const startReceiver = () => startHttpReceiver({ path: '/charla', body: (status, count) => (status === 200 ? JSON.stringify({ id: `crm-${count}` }) : '') });

beforeAll(async () => {
  smtp = await startSmtpSink();
  charla = await startTestCharla(
    { smtpUrl: smtp.url },
    { OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1', DELIVERY_RETRY_BASE_SECONDS: '0.2', DELIVERY_SWEEP_SECONDS: '0.3', DELIVERY_SWEEP_GRACE_SECONDS: String(GRACE_MS / 1000) },
  );
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator', name: 'Luis Admin' });
});

afterAll(async () => {
  await stopAllTestCharlas();
  await smtp?.stop();
});

describe('the delivery sweeper', () => {
  it('sends a channel message a crash left pending without a job, once; one just written waits out the grace period', async () => {
    const receiver = await startReceiver();
    const conversation = await conversationWithCallback(receiver.url);
    const stale = await strandedReply(conversation, 'Se quedó colgado', ago(GRACE_MS * 2));
    const fresh = await strandedReply(conversation, 'Recién escrito', new Date());

    const [delivery] = await receiver.waitFor(1);
    expect(delivery!.body.message).toMatchObject({ id: String(stale._id), content: 'Se quedó colgado' });
    expect(await settled(stale._id)).toMatchObject({ status: 'sent', externalId: 'crm-1' });
    // Several sweeps later: the sent one is not sent again, the young one is not touched yet.
    await sleep(1_200);
    expect(receiver.received).toHaveLength(1);
    expect(await Message.findById(fresh._id).lean()).toMatchObject({ status: 'pending' });

    // Past the grace period it goes too, once.
    await receiver.waitFor(2);
    expect(receiver.received.map((request) => request.body.message.id)).toEqual([String(stale._id), String(fresh._id)]);
    expect(await settled(fresh._id)).toMatchObject({ status: 'sent' });
    await sleep(700);
    expect(receiver.received).toHaveLength(2);
    await receiver.close();
  });

  it('leaves a message whose retry is scheduled to that retry', async () => {
    const receiver = await startReceiver();
    const conversation = await conversationWithCallback(receiver.url);
    const waiting = await strandedReply(conversation, 'Tercer intento', ago(GRACE_MS * 2));
    const retryAt = Date.now() + 2_000;
    await charla.services.scheduler.scheduleOnce(JOB_NAMES.deliverChannelMessage, new Date(retryAt), { messageId: String(waiting._id), attempt: '3' });

    await sleep(1_200);
    expect(receiver.received).toHaveLength(0);
    await receiver.waitFor(1);
    expect(Date.now()).toBeGreaterThanOrEqual(retryAt);
    expect(await settled(waiting._id)).toMatchObject({ status: 'sent' });
    await sleep(700);
    expect(receiver.received).toHaveLength(1);
    expect((await jobsOfMessage(waiting._id)).map((job) => job.data.attempt)).toEqual(['3']);
    await receiver.close();
  });

  it('leaves a message that is going out right now (a slow receiver) to its running job', async () => {
    const requests: string[] = [];
    const slow = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        requests.push(JSON.parse(body).message.id);
        // Held for several sweeps.
        setTimeout(() => response.end(JSON.stringify({ id: `slow-${requests.length}` })), 2_000);
      });
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const conversation = await conversationWithCallback(`http://127.0.0.1:${(slow.address() as AddressInfo).port}/charla`);
    const going = await strandedReply(conversation, 'Despacio', ago(GRACE_MS * 2));
    await charla.services.scheduler.scheduleOnce(JOB_NAMES.deliverChannelMessage, new Date(), { messageId: String(going._id), attempt: '2' });

    expect(await settled(going._id)).toMatchObject({ status: 'sent', externalId: 'slow-1' });
    await sleep(700);
    expect(requests).toEqual([String(going._id)]);
    expect((await jobsOfMessage(going._id)).map((job) => job.data.attempt)).toEqual(['2']);
    await new Promise((resolve) => slow.close(resolve));
  });

  it('a reply behind one a crash left pending waits for it, and follows it once the sweeper has sent it', async () => {
    const receiver = await startReceiver();
    const conversation = await conversationWithCallback(receiver.url);
    const stuck = await strandedReply(conversation, 'Atascado', ago(GRACE_MS * 2));
    await charla.mutate(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId: String(conversation._id), content: 'Detrás' } }, admin.token);
    await receiver.waitFor(2);
    expect(receiver.received.map((request) => request.body.message.content)).toEqual(['Atascado', 'Detrás']);
    await receiver.close();
  });

  it('sends an outbox e-mail a crash left queued without a job, once', async () => {
    const since = ago(GRACE_MS * 2);
    const [email] = await OutboxEmail.create(
      [{ accountId: admin.user.accountId, kind: 'transcript', to: ['stranded@example.test'], subject: 'Transcript left behind', text: 'Hola', html: '<p>Hola</p>', createdAt: since, updatedAt: since }],
      { timestamps: false },
    );
    const mail = await smtp.waitFor((received) => received.subject === 'Transcript left behind');
    expect(JSON.stringify(mail.to)).toContain('stranded@example.test');
    await vi.waitFor(async () => expect(await OutboxEmail.findById(email!._id).lean()).toMatchObject({ status: 'sent', attempts: 1 }), { timeout: 5_000, interval: 50 });
    await sleep(700);
    expect(smtp.messages.filter((received) => received.subject === 'Transcript left behind')).toHaveLength(1);
  });

  it('sends a webhook delivery a crash left pending without a job, as its next try', async () => {
    // An account of its own: its webhook hears nothing else of this file.
    const account = await buildAccount();
    const receiver = await startHttpReceiver({ finally: 204 });
    const webhook = await Webhook.create({ accountId: account._id, url: receiver.url, events: ['contact_updated'], secret: 'webhook-secret' });
    const delivery = await WebhookDelivery.create({
      accountId: account._id,
      webhookId: webhook._id,
      event: 'contact_updated',
      payload: { event: 'contact_updated', occurredAt: ago(GRACE_MS * 2), contact: { id: 'c1' } },
      attempts: 2,
      createdAt: ago(GRACE_MS * 2),
    });
    const [request] = await receiver.waitFor(1);
    expect(request!.headers['x-charla-delivery']).toBe(String(delivery._id));
    expect(request!.body).toMatchObject({ deliveryId: String(delivery._id), event: 'contact_updated', contact: { id: 'c1' } });
    await vi.waitFor(async () => expect(await WebhookDelivery.findById(delivery._id).lean()).toMatchObject({ status: 'delivered', attempts: 3 }), { timeout: 5_000, interval: 50 });
    await sleep(700);
    expect(receiver.received).toHaveLength(1);
    await receiver.close();
  });

  it('reads only indexes of unsent records', async () => {
    const queries = strandedQueries(new Date());
    const indexesOf = async (query: { explain(verbosity: string): Promise<unknown> }) => {
      const explain = (await query.explain('queryPlanner')) as any;
      const plan = (Array.isArray(explain) ? explain[0] : explain).queryPlanner.winningPlan;
      const found = JSON.stringify(plan);
      return { collectionScan: found.includes('COLLSCAN'), index: /"indexName":"([^"]+)"/.exec(found)?.[1] };
    };
    expect(await indexesOf(queries.channelMessages)).toEqual({ collectionScan: false, index: 'status_1_updatedAt_1' });
    expect(await indexesOf(queries.outboxEmails)).toEqual({ collectionScan: false, index: 'status_1_createdAt_1' });
    expect(await indexesOf(queries.webhookDeliveries)).toEqual({ collectionScan: false, index: 'status_1_createdAt_1' });
    const messageIndexes = await Message.collection.indexes();
    expect(messageIndexes.find((index) => index.name === 'status_1_updatedAt_1')?.partialFilterExpression).toEqual({ status: 'pending' });
  });
});

// Account webhooks: an administrator subscribes an address to the account's events; each event
// arrives signed with the webhook's secret, with a delivery id that stays the same when a failing
// receiver gets it again, and a delivery record saying how it went.
import { verifySignature } from '@charla/channels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookDelivery } from '../../../server/src/db/models/webhook.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { startHttpReceiver } from '../../support/http-receiver.ts';
import { currentConversationId, openWidget, say, setStatus } from '../widget/visitor-client.ts';

let charla: TestCharla;
let admin: BuiltAgent;
let agent: BuiltAgent;

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id url events secret enabled } }`;
const DELIVERIES = `query { webhooks { id deliveries { id event status attempts lastError responseStatus } } }`;

const startReceiver = (plan: number[] = []) => startHttpReceiver({ plan, finally: 204 });

async function settledDeliveries(webhookId: string, count: number) {
  for (;;) {
    const deliveries = await WebhookDelivery.find({ webhookId }).lean();
    if (deliveries.length >= count && deliveries.every((delivery) => delivery.status !== 'pending')) return deliveries;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

beforeAll(async () => {
  charla = await startTestCharla({}, { OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1', DELIVERY_RETRY_BASE_SECONDS: '0.2' });
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator' });
  agent = await buildAgent(account._id);
});

afterAll(stopAllTestCharlas);

describe('account webhooks', () => {
  it('deliver the subscribed events, signed, and only those', async () => {
    const receiver = await startReceiver();
    const { createWebhook: webhook } = await charla.mutate(CREATE, { input: { url: receiver.url, events: ['CONVERSATION_CREATED', 'CONVERSATION_STATUS_CHANGED'] } }, admin.token);
    expect(webhook).toMatchObject({ url: receiver.url, events: ['CONVERSATION_CREATED', 'CONVERSATION_STATUS_CHANGED'], enabled: true, secret: expect.any(String) });

    const inbox = await buildInbox(admin.user.accountId, { memberIds: [agent.user._id] });
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await setStatus(charla, agent.token, conversationId, 'RESOLVED');

    const [created] = await receiver.waitFor(1, (request) => request.body.event === 'conversation_created');
    expect(created!.body).toMatchObject({ event: 'conversation_created', deliveryId: created!.headers['x-charla-delivery'], conversation: { id: conversationId, status: 'open', inboxId: String(inbox._id) } });
    expect(created!.headers['x-charla-event']).toBe('conversation_created');
    expect(verifySignature(webhook.secret, created!.headers['x-charla-signature'] as string, created!.raw, new Date())).toBe(true);
    const [resolved] = await receiver.waitFor(1, (request) => request.body.event === 'conversation_status_changed');
    expect(resolved!.body).toMatchObject({ conversation: { id: conversationId, status: 'resolved' }, previousStatus: 'open' });

    const deliveries = await settledDeliveries(webhook.id, 2);
    expect(deliveries.map((delivery) => delivery.status)).toEqual(['delivered', 'delivered']);
    // No message_created was asked for.
    expect(receiver.received.map((request) => request.body.event).sort()).toEqual(['conversation_created', 'conversation_status_changed']);
    await charla.mutate(`mutation($id: ID!) { deleteWebhook(id: $id) }`, { id: webhook.id }, admin.token);
    await receiver.close();
  });

  it('retry a failing receiver until it answers, with the same delivery id, and record it', async () => {
    const receiver = await startReceiver([500, 503]);
    const { createWebhook: webhook } = await charla.mutate(CREATE, { input: { url: receiver.url, events: ['MESSAGE_CREATED'] } }, admin.token);
    const inbox = await buildInbox(admin.user.accountId, { memberIds: [agent.user._id] });
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola de nuevo');
    const tries = await receiver.waitFor(3, (request) => request.body.message?.content === 'Hola de nuevo');
    expect(new Set(tries.map((request) => request.headers['x-charla-delivery'])).size).toBe(1);
    const [delivery] = await settledDeliveries(webhook.id, 1);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, responseStatus: 204, lastError: null });
    expect(receiver.received).toHaveLength(3);
    const listed = (await charla.mutate(DELIVERIES, {}, admin.token)).webhooks.find((item: { id: string }) => item.id === webhook.id);
    expect(listed.deliveries).toEqual([{ id: String(delivery!._id), event: 'MESSAGE_CREATED', status: 'delivered', attempts: 3, lastError: null, responseStatus: 204 }]);
    await charla.mutate(`mutation($id: ID!) { deleteWebhook(id: $id) }`, { id: webhook.id }, admin.token);
    await receiver.close();
  });

  it("follow an administrator's change from the next event on: other events, switched off, removed", async () => {
    const receiver = await startReceiver();
    const { createWebhook: webhook } = await charla.mutate(CREATE, { input: { url: receiver.url, events: ['MESSAGE_CREATED'] } }, admin.token);
    const inbox = await buildInbox(admin.user.accountId, { memberIds: [agent.user._id] });
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'primero');
    await receiver.waitFor(1, (request) => request.body.message?.content === 'primero');

    const UPDATE = `mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { id } }`;
    await charla.mutate(UPDATE, { id: webhook.id, input: { events: ['CONVERSATION_STATUS_CHANGED'] } }, admin.token);
    await say(charla, visitor.visitorToken, 'segundo');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await setStatus(charla, agent.token, conversationId, 'RESOLVED');
    await receiver.waitFor(1, (request) => request.body.event === 'conversation_status_changed');

    await charla.mutate(UPDATE, { id: webhook.id, input: { enabled: false } }, admin.token);
    await setStatus(charla, agent.token, conversationId, 'OPEN');
    await charla.mutate(UPDATE, { id: webhook.id, input: { enabled: true } }, admin.token);
    await setStatus(charla, agent.token, conversationId, 'RESOLVED');
    await receiver.waitFor(2, (request) => request.body.event === 'conversation_status_changed');
    await charla.mutate(`mutation($id: ID!) { deleteWebhook(id: $id) }`, { id: webhook.id }, admin.token);
    await setStatus(charla, agent.token, conversationId, 'OPEN');
    await say(charla, visitor.visitorToken, 'tercero');
    await charla.services.bus.idle();

    // Only what the webhook asked for while it was on: the first message, and two of the four status changes.
    expect(receiver.received.map((request) => [request.body.event, request.body.message?.content ?? request.body.conversation?.status])).toEqual([
      ['message_created', 'primero'],
      ['conversation_status_changed', 'resolved'],
      ['conversation_status_changed', 'resolved'],
    ]);
    expect(await WebhookDelivery.countDocuments({ webhookId: webhook.id })).toBe(3);
    await receiver.close();
  });

  it('refuse a private address the configuration does not allow, without retrying', async () => {
    const { createWebhook: webhook } = await charla.mutate(CREATE, { input: { url: 'http://192.168.1.20/hooks', events: ['CONTACT_UPDATED'] } }, admin.token);
    const inbox = await buildInbox(admin.user.accountId, { memberIds: [agent.user._id], settings: { preChatForm: { enabled: true, fields: [{ name: 'fullName', label: 'Name', type: 'text' }] } } as never });
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await charla.mutate(`mutation($values: JSON!) { submitPreChatForm(values: $values) { id } }`, { values: { fullName: 'Lucía' } }, visitor.visitorToken);
    const [delivery] = await settledDeliveries(webhook.id, 1);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1, lastError: 'the address is in a private network (after 1 try)' });
    await charla.mutate(`mutation($id: ID!) { deleteWebhook(id: $id) }`, { id: webhook.id }, admin.token);
  });

  it('are for administrators, with checked addresses and events', async () => {
    expect((await charla.graphql(CREATE, { input: { url: 'https://crm.example/hooks', events: ['MESSAGE_CREATED'] } }, agent.token)).errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    expect((await charla.graphql(`{ webhooks { id } }`, {}, agent.token)).errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    const bad = await charla.graphql(CREATE, { input: { url: 'javascript:alert(1)', events: ['MESSAGE_CREATED'] } }, admin.token);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', details: { field: 'url' } });
    const none = await charla.graphql(CREATE, { input: { url: 'https://crm.example/hooks', events: [] } }, admin.token);
    expect(none.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', details: { field: 'events' } });
  });
});

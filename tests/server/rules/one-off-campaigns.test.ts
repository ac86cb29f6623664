// One-off campaigns: at their time, a message to every contact with one of the audience's labels,
// through a channel that can write first (the API channel here: its callback receives them), once
// per contact, with progress on the campaign.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from '@charla/channels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CampaignModel } from '../../../server/src/db/models/campaign.ts';
import { Contact } from '../../../server/src/db/models/contact.ts';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { Label } from '../../../server/src/db/models/label.ts';
import { runOneOffCampaign } from '../../../server/src/jobs/run-one-off-campaign.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';

let charla: TestCharla;
let admin: BuiltAgent;
let receiver: { server: Server; url: string; received: any[] };

const SAVE = `mutation($id: ID, $inboxId: ID!, $json: JSON!) { saveCampaign(id: $id, inboxId: $inboxId, json: $json) { id kind status progress { audience sent skipped } } }`;

async function apiInboxWithContacts(people: Array<{ sourceId: string; labels: string[] }>) {
  const { createInbox } = await charla.mutate(
    `mutation($input: CreateInboxInput!) { createInbox(input: $input) { id hmacSecret } }`,
    { input: { name: `CRM ${Math.random().toString(36).slice(2, 7)}`, channelType: 'API', channelConfig: { callbackUrl: receiver.url } } },
    admin.token,
  );
  const contactIds: string[] = [];
  for (const person of people) {
    // Each contact writes once through the channel, so the inbox knows where to reach them.
    const body = Buffer.from(JSON.stringify({ contact: { sourceId: person.sourceId, name: person.sourceId }, message: { externalId: `first-${person.sourceId}`, content: 'Hola' } }));
    await fetch(`${charla.url}/channels/${createInbox.id}/inbound`, { method: 'POST', headers: { 'x-charla-signature': sign(createInbox.hmacSecret, body, new Date()) }, body });
    const conversation = await Conversation.findOne({ inboxId: createInbox.id }).sort({ _id: -1 }).lean();
    contactIds.push(String(conversation!.contactId));
    if (person.labels.length > 0) {
      await charla.mutate(`mutation($id: ID!, $labels: [String!]!) { addContactLabels(contactId: $id, labels: $labels) { labels } }`, { id: String(conversation!.contactId), labels: person.labels }, admin.token);
    }
  }
  await charla.services.bus.idle();
  return { inboxId: createInbox.id as string, contactIds };
}

const campaign = (overrides: Record<string, unknown> = {}) => ({
  kind: 'one_off',
  title: 'Rebajas',
  message: { en: 'Our sale starts tomorrow', es: 'Las rebajas empiezan mañana' },
  scheduledAt: new Date(Date.now() + 60 * 60 * 1000).toISOString(),
  audience: { labels: ['vip'] },
  ...overrides,
});

beforeAll(async () => {
  charla = await startTestCharla({}, { OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1', DELIVERY_RETRY_BASE_SECONDS: '0.2' });
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator' });
  for (const title of ['vip', 'newsletter']) await Label.create({ accountId: account._id, title });
  const received: any[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push(JSON.parse(body));
      response.statusCode = 200;
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/crm`, received };
});

afterAll(async () => {
  await stopAllTestCharlas();
  await new Promise((resolve) => receiver.server.close(resolve));
});

async function completed(campaignId: string) {
  for (;;) {
    const stored = await CampaignModel.findById(campaignId).lean();
    if (stored?.status === 'completed') return stored;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('a one-off campaign', () => {
  it('goes out at its time to the audience only, through the channel, and reports progress', async () => {
    const { inboxId, contactIds } = await apiInboxWithContacts([
      { sourceId: 'ana', labels: ['vip'] },
      { sourceId: 'beto', labels: ['vip', 'newsletter'] },
      { sourceId: 'carla', labels: ['newsletter'] },
      { sourceId: 'dani', labels: ['vip'] },
    ]);
    // A blocked contact is never written to.
    await Contact.updateOne({ _id: contactIds[3] }, { $set: { blocked: true } });
    const saved = (await charla.mutate(SAVE, { inboxId, json: campaign({ scheduledAt: new Date(Date.now() + 1_000).toISOString() }) }, admin.token)).saveCampaign;
    expect(saved).toMatchObject({ kind: 'one_off', status: 'scheduled', progress: { audience: 0, sent: 0, skipped: 0 } });

    expect((await completed(saved.id)).progress).toEqual({ audience: 2, sent: 2, skipped: 0 });
    const conversations = await Conversation.find({ campaignId: saved.id }).lean();
    expect(conversations.map((conversation) => String(conversation.contactId)).sort()).toEqual([contactIds[0], contactIds[1]].sort());
    while (receiver.received.filter((delivery) => delivery.message.content === 'Our sale starts tomorrow').length < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(receiver.received.filter((delivery) => delivery.message.content === 'Our sale starts tomorrow').map((delivery) => delivery.contact.sourceId).sort()).toEqual(['ana', 'beto']);

    // Run again (a restart mid-run, a repeated job): nobody gets it twice, the counts stay.
    await CampaignModel.updateOne({ _id: saved.id }, { $set: { status: 'running' } });
    await runOneOffCampaign(charla.services, { campaignId: saved.id });
    expect(await Conversation.countDocuments({ campaignId: saved.id })).toBe(2);
    expect((await completed(saved.id)).progress).toEqual({ audience: 2, sent: 2, skipped: 0 });
    expect((await charla.graphql(SAVE, { id: saved.id, inboxId, json: campaign() }, admin.token)).errors?.[0]?.extensions?.code).toBe('campaign/already_sent');
  });

  it('skips audience contacts the inbox has no address for', async () => {
    const { inboxId } = await apiInboxWithContacts([{ sourceId: 'dora', labels: ['vip'] }]);
    // A vip contact known only through another inbox.
    const other = await apiInboxWithContacts([{ sourceId: 'eva', labels: ['vip'] }]);
    const saved = (await charla.mutate(SAVE, { inboxId, json: campaign() }, admin.token)).saveCampaign;
    await runOneOffCampaign(charla.services, { campaignId: saved.id });
    // The account's vip contacts: ana and beto (first test), dora here, eva in another inbox.
    expect((await completed(saved.id)).progress).toEqual({ audience: 4, sent: 1, skipped: 3 });
    expect(await Conversation.countDocuments({ campaignId: saved.id, inboxId: other.inboxId })).toBe(0);
  });

  it('finishes the message of a contact whose conversation a stopped run left empty', async () => {
    const { inboxId } = await apiInboxWithContacts([{ sourceId: 'fede', labels: ['newsletter'] }]);
    const saved = (await charla.mutate(SAVE, { inboxId, json: campaign({ audience: { labels: ['newsletter'] } }) }, admin.token)).saveCampaign;
    await runOneOffCampaign(charla.services, { campaignId: saved.id });
    const conversation = await Conversation.findOne({ campaignId: saved.id, inboxId }).lean();
    const { Message } = await import('../../../server/src/db/models/message.ts');
    await Message.deleteMany({ conversationId: conversation!._id });
    await CampaignModel.updateOne({ _id: saved.id }, { $set: { status: 'running' } });
    await runOneOffCampaign(charla.services, { campaignId: saved.id });
    expect((await Message.find({ conversationId: conversation!._id }).lean()).map((message) => message.content)).toEqual(['Our sale starts tomorrow']);
  });

  it('needs a channel that can write first, a time ahead and labels that exist', async () => {
    const web = await buildInbox(admin.user.accountId);
    expect((await charla.graphql(SAVE, { inboxId: String(web._id), json: campaign() }, admin.token)).errors?.[0]?.extensions).toMatchObject({
      code: 'input/invalid',
      details: { field: 'inboxId' },
    });
    const { inboxId } = await apiInboxWithContacts([]);
    expect((await charla.graphql(SAVE, { inboxId, json: campaign({ scheduledAt: '2020-01-01T00:00:00Z' }) }, admin.token)).errors?.[0]?.extensions?.details).toEqual({
      errors: [{ path: 'scheduledAt', message: 'must be in the future' }],
    });
    expect((await charla.graphql(SAVE, { inboxId, json: campaign({ audience: { labels: ['vip', 'ghosts'] } }) }, admin.token)).errors?.[0]?.extensions?.details).toEqual({
      errors: [{ path: 'audience.labels[1]', message: 'is not a label of this account' }],
    });
    expect((await charla.graphql(SAVE, { inboxId, json: campaign({ scheduledAt: 'tomorrow' }) }, admin.token)).errors?.[0]?.extensions?.details).toMatchObject({
      errors: [{ path: 'scheduledAt' }],
    });
  });
});

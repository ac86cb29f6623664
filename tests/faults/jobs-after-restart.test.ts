// Scheduled work that falls due while the server is dead: a snoozed conversation and a one-off
// campaign, both due while the process is SIGKILLed, run once after the restart — one wake-up,
// one campaign message per contact.
import { sign } from '@charla/channels';
import { ObjectId } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpReceiver } from '../support/http-receiver.ts';
import { cleanUpInstallations, eventually, startInstallation } from './installation.ts';

// Far enough ahead that the kill surely comes first, near enough to keep the test short.
const DUE_IN_MS = 4_000;
const CAMPAIGN_TEXT = 'Las rebajas empiezan mañana';

afterEach(cleanUpInstallations);

describe('jobs due while the server is down', () => {
  it('reopen the snoozed conversation once and send the one-off campaign once per contact after the restart', async () => {
    const callbacks = await startHttpReceiver({ path: '/crm' });
    try {
      const installation = await startInstallation({ OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1' });
      const adminToken = await installation.login();

      // A visitor's conversation in the demo inbox.
      const { widgetSession } = await installation.mutate(`mutation($websiteToken: String!) { widgetSession(websiteToken: $websiteToken) { visitorToken } }`, {
        websiteToken: installation.websiteToken,
      });
      await installation.mutate(`mutation { sendVisitorMessage(content: "¿Me avisáis el lunes?") { id } }`, {}, widgetSession.visitorToken);
      const conversationId: string = (await installation.mutate(`{ visitorConversation { id } }`, {}, widgetSession.visitorToken)).visitorConversation.id;

      // Three contacts of an API inbox (its callback can write to them first), two in the audience.
      const { createInbox } = await installation.mutate(
        `mutation($input: CreateInboxInput!) { createInbox(input: $input) { id hmacSecret } }`,
        { input: { name: 'CRM', channelType: 'API', channelConfig: { callbackUrl: callbacks.url } } },
        adminToken,
      );
      await installation.mutate(`mutation { createLabel(input: { title: "vip" }) { id } }`, {}, adminToken);
      for (const sourceId of ['ana', 'beto', 'carla']) {
        const body = Buffer.from(JSON.stringify({ contact: { sourceId, name: sourceId }, message: { externalId: `first-${sourceId}`, content: 'Hola' } }));
        const response = await fetch(`${installation.charla.url}/channels/${createInbox.id}/inbound`, {
          method: 'POST',
          headers: { 'x-charla-signature': sign(createInbox.hmacSecret, body, new Date()) },
          body,
        });
        expect(response.status).toBeLessThan(300);
      }
      const contacts = await eventually('the three contacts to be stored', async () => {
        const found = await installation.db.collection('contactInboxes').find({ inboxId: new ObjectId(createInbox.id) }).toArray();
        return found.length === 3 ? found : undefined;
      });
      for (const contact of contacts.filter((contactInbox) => contactInbox.sourceId !== 'carla')) {
        await installation.mutate(`mutation($id: ID!) { addContactLabels(contactId: $id, labels: ["vip"]) { id } }`, { id: String(contact.contactId) }, adminToken);
      }

      const dueAt = new Date(Date.now() + DUE_IN_MS);
      await installation.mutate(
        `mutation($id: ID!, $until: DateTime) { changeConversationStatus(conversationId: $id, status: SNOOZED, snoozedUntil: $until) { status } }`,
        { id: conversationId, until: dueAt.toISOString() },
        adminToken,
      );
      const { saveCampaign } = await installation.mutate(
        `mutation($inboxId: ID!, $json: JSON!) { saveCampaign(inboxId: $inboxId, json: $json) { id status } }`,
        { inboxId: createInbox.id, json: { kind: 'one_off', title: 'Rebajas', message: { en: CAMPAIGN_TEXT }, scheduledAt: dueAt.toISOString(), audience: { labels: ['vip'] } } },
        adminToken,
      );
      expect(saveCampaign.status).toBe('scheduled');

      const killed = installation.charla;
      await installation.kill();
      // Nothing ran early: the jobs were only stored.
      expect(Date.now()).toBeLessThan(dueAt.getTime());
      const conversations = installation.db.collection('conversations');
      expect((await conversations.findOne({ _id: new ObjectId(conversationId) }))?.status).toBe('snoozed');
      await eventually('the jobs to be due', () => (Date.now() > dueAt.getTime() + 500 ? true : undefined));

      await installation.restart({ OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1' });
      await eventually('the conversation to be reopened', async () => ((await conversations.findOne({ _id: new ObjectId(conversationId) }))?.status === 'open' ? true : undefined));
      const campaign = await eventually('the campaign to complete', async () => {
        const stored = await installation.db.collection('campaigns').findOne({ _id: new ObjectId(saveCampaign.id) });
        return stored?.status === 'completed' ? stored : undefined;
      });
      expect(campaign.progress).toMatchObject({ audience: 2, sent: 2 });
      await callbacks.waitFor(2, (request) => request.body?.message?.content === CAMPAIGN_TEXT);

      // Give a second run (a job left locked by the killed process, run again) the time to show itself.
      const jobs = installation.db.collection('agendaJobs');
      await eventually('no job left to run', async () => {
        const pending = await jobs.countDocuments({ name: { $in: ['conversation.wake-snoozed', 'campaigns.run-one-off'] }, $or: [{ nextRunAt: { $ne: null } }, { lockedAt: { $ne: null } }] });
        return pending === 0 ? true : undefined;
      });

      const messages = installation.db.collection('messages');
      // The wake-up job reopened it once, on the restarted server (a system wake-up writes no activity line: its log line tells).
      const wakeUps = (process: { lines: string[] }) => process.lines.filter((line) => line.includes('snoozed conversation woke up') && line.includes(conversationId)).length;
      expect([wakeUps(killed), wakeUps(installation.charla)]).toEqual([0, 1]);
      expect(await conversations.findOne({ _id: new ObjectId(conversationId) })).toMatchObject({ status: 'open', snoozedUntil: null });
      expect(await conversations.countDocuments({ campaignId: new ObjectId(saveCampaign.id) })).toBe(2);
      expect(await messages.countDocuments({ inboxId: new ObjectId(createInbox.id), content: CAMPAIGN_TEXT })).toBe(2);
      const campaignCallbacks = callbacks.received.filter((request) => request.body?.message?.content === CAMPAIGN_TEXT);
      expect(campaignCallbacks.map((request) => request.body.contact.sourceId).sort()).toEqual(['ana', 'beto']);
    } finally {
      await callbacks.close();
    }
  });
});

// Ongoing web campaigns: offered on matching pages after the time on page, only in business hours
// when they say so, never to a visitor who already wrote, snoozed an hour when closed; answering
// one starts the conversation with the campaign's message from its sender — once per visitor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContactInbox } from '../../../server/src/db/models/contact-inbox.ts';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { Label } from '../../../server/src/db/models/label.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { agentMessages, currentConversationId, openWidget, setStatus } from '../widget/visitor-client.ts';

let charla: TestCharla;
let admin: BuiltAgent;
let ana: BuiltAgent;

const SAVE = `mutation($id: ID, $inboxId: ID!, $json: JSON!) { saveCampaign(id: $id, inboxId: $inboxId, json: $json) { id title enabled document } }`;
const PAGE_VIEWED = `mutation($page: VisitorPageInput!) { pageViewed(page: $page) { campaign { id message sender { type name } } nextCheckInSeconds } }`;
const SEND = `mutation($content: String!, $campaignId: ID, $page: VisitorPageInput) { sendVisitorMessage(content: $content, campaignId: $campaignId, page: $page) { id } }`;

const ALWAYS_CLOSED = Array.from({ length: 7 }, () => ({ closed: true, openMinute: 540, closeMinute: 1020 }));
const ALWAYS_OPEN = Array.from({ length: 7 }, () => ({ closed: false, openMinute: 0, closeMinute: 1440 }));

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator' });
  ana = await buildAgent(account._id, { name: 'Ana García' });
});

afterAll(stopAllTestCharlas);

async function inboxWithCampaign(campaign: Record<string, unknown>, settings: Record<string, unknown> = {}) {
  const inbox = await buildInbox(admin.user.accountId, { memberIds: [ana.user._id], settings: settings as never });
  const saved = (await charla.mutate(SAVE, { inboxId: String(inbox._id), json: campaign }, admin.token)).saveCampaign;
  return { inbox, campaignId: saved.id as string };
}

const pricing = (overrides: Record<string, unknown> = {}) => ({
  title: 'Pricing help',
  message: { en: 'Questions about our plans? Ask us!', es: '¿Dudas sobre los planes? ¡Pregúntanos!' },
  sender: { type: 'agent', agentId: String(ana.user._id) },
  triggerRules: { url: 'https://shop.example/pricing*', timeOnPage: 10 },
  ...overrides,
});

async function view(inbox: InboxDoc, page: Record<string, unknown>, visitorToken?: string) {
  const visitor = visitorToken ? { visitorToken } : await openWidget(charla, inbox.websiteToken!);
  const offer = (await charla.mutate(PAGE_VIEWED, { page }, visitor.visitorToken)).pageViewed;
  return { offer, visitorToken: visitor.visitorToken };
}

describe('offering a campaign', () => {
  it('appears on a matching page once the visitor has spent its time there', async () => {
    const { inbox, campaignId } = await inboxWithCampaign(pricing());
    const early = await view(inbox, { url: 'https://shop.example/pricing?plan=pro', timeOnPage: 3 });
    expect(early.offer).toEqual({ campaign: null, nextCheckInSeconds: 7 });
    const due = await view(inbox, { url: 'https://shop.example/pricing?plan=pro', timeOnPage: 10 }, early.visitorToken);
    expect(due.offer).toEqual({
      campaign: { id: campaignId, message: 'Questions about our plans? Ask us!', sender: { type: 'AGENT', name: 'Ana García' } },
      nextCheckInSeconds: null,
    });
    expect((await view(inbox, { url: 'https://shop.example/about', timeOnPage: 60 })).offer).toEqual({ campaign: null, nextCheckInSeconds: null });
  });

  it('speaks the inbox language and, with onlyDuringBusinessHours, waits for opening time', async () => {
    const document = pricing({ onlyDuringBusinessHours: true, triggerRules: { url: '*', timeOnPage: 0 } });
    const open = await inboxWithCampaign(document, { locale: 'es', workingHours: { enabled: true, timezone: 'UTC', days: ALWAYS_OPEN } });
    expect((await view(open.inbox, { url: 'https://shop.example/', timeOnPage: 0 })).offer.campaign.message).toBe('¿Dudas sobre los planes? ¡Pregúntanos!');
    const closed = await inboxWithCampaign(document, { workingHours: { enabled: true, timezone: 'UTC', days: ALWAYS_CLOSED } });
    expect((await view(closed.inbox, { url: 'https://shop.example/', timeOnPage: 0 })).offer.campaign).toBeNull();
  });

  it('is not offered to a visitor who already wrote, nor while snoozed after closing it', async () => {
    const { inbox } = await inboxWithCampaign(pricing({ triggerRules: { url: '*', timeOnPage: 0 } }));
    const first = await view(inbox, { url: 'https://shop.example/' });
    expect(first.offer.campaign).not.toBeNull();
    await charla.mutate(`mutation { dismissCampaigns }`, {}, first.visitorToken);
    expect((await view(inbox, { url: 'https://shop.example/' }, first.visitorToken)).offer.campaign).toBeNull();
    // An hour later (moved back here rather than waiting) it is offered again.
    await ContactInbox.updateMany({ inboxId: inbox._id }, { $set: { campaignsSnoozedUntil: new Date(Date.now() - 1000) } });
    expect((await view(inbox, { url: 'https://shop.example/' }, first.visitorToken)).offer.campaign).not.toBeNull();

    await charla.mutate(SEND, { content: 'Hola' }, first.visitorToken);
    await charla.services.bus.idle();
    expect((await view(inbox, { url: 'https://shop.example/' }, first.visitorToken)).offer.campaign).toBeNull();
  });

  it('stops once disabled or deleted', async () => {
    const { inbox, campaignId } = await inboxWithCampaign(pricing({ triggerRules: { url: '*', timeOnPage: 0 } }));
    await charla.mutate(SAVE, { id: campaignId, inboxId: String(inbox._id), json: pricing({ enabled: false, triggerRules: { url: '*', timeOnPage: 0 } }) }, admin.token);
    expect((await view(inbox, { url: 'https://shop.example/' })).offer.campaign).toBeNull();
    await charla.mutate(`mutation($id: ID!) { deleteCampaign(id: $id) }`, { id: campaignId }, admin.token);
    expect((await charla.mutate(`query($inboxId: ID) { campaigns(inboxId: $inboxId) { id } }`, { inboxId: String(inbox._id) }, admin.token)).campaigns).toEqual([]);
  });
});

describe('answering a campaign', () => {
  it('starts the conversation with the campaign message from its sender, without the greeting, once per visitor', async () => {
    const { inbox, campaignId } = await inboxWithCampaign(pricing({ triggerRules: { url: '*', timeOnPage: 0 } }), {
      greeting: { enabled: true, text: '¡Hola!' },
      allowMessagesAfterResolved: false,
    });
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await charla.mutate(SEND, { content: 'Sí, ¿el plan Pro incluye soporte?', campaignId }, visitor.visitorToken);
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await charla.services.bus.idle();
    const messages = await agentMessages(charla, ana.token, conversationId);
    expect(messages.map((message) => [message.messageType, message.content])).toEqual([
      ['OUTGOING', 'Questions about our plans? Ask us!'],
      ['INCOMING', 'Sí, ¿el plan Pro incluye soporte?'],
    ]);
    const details = await charla.mutate(`query($id: ID!) { conversation(id: $id) { messages(first: 10) { edges { node { messageType sender { name } } } } } }`, { id: conversationId }, ana.token);
    const campaignMessage = details.conversation.messages.edges.find((edge: { node: { messageType: string } }) => edge.node.messageType === 'OUTGOING');
    expect(campaignMessage.node.sender).toEqual({ name: 'Ana García' });

    await setStatus(charla, ana.token, conversationId, 'RESOLVED');
    await charla.mutate(`mutation($content: String!, $campaignId: ID) { startNewConversation(content: $content, campaignId: $campaignId) { id } }`, { content: 'Otra vez', campaignId }, visitor.visitorToken);
    const second = await currentConversationId(charla, visitor.visitorToken);
    await charla.services.bus.idle();
    expect(second).not.toBe(conversationId);
    expect((await agentMessages(charla, ana.token, second)).map((message) => message.content)).toEqual(['Otra vez', '¡Hola!']);
  });

  it('does not make the campaign\'s agent the one who answered: the visitor is still waiting', async () => {
    const { inbox, campaignId } = await inboxWithCampaign(pricing({ triggerRules: { url: '*', timeOnPage: 0 } }), {
      workingHours: { enabled: true, timezone: 'UTC', outOfOfficeMessage: 'Volvemos mañana', days: ALWAYS_CLOSED },
    });
    charla.services.bus.publish('settings.changed', { accountId: inbox.accountId, entity: 'inbox', id: inbox._id, action: 'updated', performedBy: { type: 'system', accountId: inbox.accountId } });
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await charla.mutate(SEND, { content: '¿Tenéis plan anual?', campaignId }, visitor.visitorToken);
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await charla.services.bus.idle();
    const { Conversation } = await import('../../../server/src/db/models/conversation.ts');
    const stored = await Conversation.findById(conversationId).lean();
    expect(stored).toMatchObject({ firstReplyAt: null, participants: [] });
    expect(stored!.waitingSince).toBeInstanceOf(Date);
    // Outside working hours the out-of-office message still answers: no agent has replied.
    expect((await agentMessages(charla, ana.token, conversationId)).map((message) => message.content)).toContain('Volvemos mañana');
  });

  it('starts an ordinary conversation, and loses nothing, for a campaign switched off meanwhile or of another inbox', async () => {
    const { inbox, campaignId } = await inboxWithCampaign(pricing());
    await charla.mutate(SAVE, { id: campaignId, inboxId: String(inbox._id), json: pricing({ enabled: false }) }, admin.token);
    const other = await buildInbox(admin.user.accountId, { memberIds: [ana.user._id] });
    for (const target of [inbox, other]) {
      const visitor = await openWidget(charla, target.websiteToken!);
      await charla.mutate(SEND, { content: 'Hola, ¿seguís ahí?', campaignId }, visitor.visitorToken);
      const conversationId = await currentConversationId(charla, visitor.visitorToken);
      await charla.services.bus.idle();
      expect((await agentMessages(charla, ana.token, conversationId)).map((message) => message.content)).toEqual(['Hola, ¿seguís ahí?']);
    }
  });
});

describe('saving a campaign', () => {
  it('refuses bad documents with their path, an agent outside the inbox and a non-web inbox', async () => {
    const inbox = await buildInbox(admin.user.accountId, { memberIds: [ana.user._id] });
    const bad = await charla.graphql(SAVE, { inboxId: String(inbox._id), json: pricing({ triggerRules: { url: 7, timeOnPage: -1 } }) }, admin.token);
    expect(bad.errors?.[0]?.extensions).toMatchObject({
      code: 'rules/invalid',
      details: { errors: [{ path: 'triggerRules.url', message: expect.any(String) }, { path: 'triggerRules.timeOnPage', message: expect.any(String) }] },
    });
    const outsider = await buildAgent(admin.user.accountId, { name: 'Outsider' });
    const stranger = await charla.graphql(SAVE, { inboxId: String(inbox._id), json: pricing({ sender: { type: 'agent', agentId: String(outsider.user._id) } }) }, admin.token);
    expect(stranger.errors?.[0]?.extensions?.details).toEqual({ errors: [{ path: 'sender.agentId', message: 'is not an agent of this inbox' }] });
    expect((await charla.graphql(SAVE, { inboxId: String(inbox._id), json: pricing() }, ana.token)).errors?.[0]?.extensions?.code).toBe('auth/forbidden');
  });
});

describe('the visitor\'s page', () => {
  it('reaches rules as visitor facts with the message', async () => {
    const inbox = await buildInbox(admin.user.accountId, { memberIds: [ana.user._id] });
    await Label.create({ accountId: admin.user.accountId, title: 'pricing-page' });
    await charla.mutate(
      `mutation($json: JSON!) { saveRuleSet(json: $json) { id } }`,
      {
        json: {
          version: 1,
          name: 'From the pricing page',
          inboxes: [String(inbox._id)],
          rules: [
            {
              id: 'pricing',
              name: 'Tag conversations started on the pricing page',
              on: 'message.created',
              conditions: { all: [{ fact: 'visitor.pageUrl', operator: 'matchesUrlPattern', value: '*/pricing*' }, { fact: 'visitor.browserLanguage', operator: 'startsWith', value: 'es' }] },
              actions: [{ type: 'add_label', params: { labels: ['pricing-page'] } }],
            },
          ],
        },
      },
      admin.token,
    );
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await charla.mutate(SEND, { content: 'Hola', page: { url: 'https://shop.example/pricing', browserLanguage: 'es-ES' } }, visitor.visitorToken);
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await charla.services.bus.idle();
    expect((await charla.mutate(`query($id: ID!) { conversation(id: $id) { labels } }`, { id: conversationId }, ana.token)).conversation.labels).toEqual(['pricing-page']);
    const injected = await charla.graphql(SEND, { content: 'Hola', page: { url: { $ne: null } } }, visitor.visitorToken);
    expect(injected.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

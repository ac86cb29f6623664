// The satisfaction survey: posted once when a conversation is resolved (if the inbox asks for it,
// never when muted), answered by the visitor with 1–5 and optional feedback, stored for reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsatResponse } from '../../../server/src/db/models/csat-response.ts';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { agentMessages, currentConversationId, openWidget, say, setStatus, WIDGET_EVENTS } from './visitor-client.ts';

let charla: TestCharla;
let ana: BuiltAgent;
let spanishInbox: InboxDoc;
let customInbox: InboxDoc;
let plainInbox: InboxDoc;

const SUBMIT_CSAT = `mutation($messageId: ID!, $rating: Int!, $feedback: String) {
  submitCsat(messageId: $messageId, rating: $rating, feedback: $feedback) { id contentType contentAttributes } }`;

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  ana = await buildAgent(account._id, { name: 'Ana García' });
  const memberIds = [ana.user._id];
  spanishInbox = await buildInbox(account._id, { memberIds, settings: { locale: 'es', emailCollect: false, csat: { enabled: true, display: 'emoji', message: '' } } as never });
  customInbox = await buildInbox(account._id, {
    memberIds,
    settings: { emailCollect: false, csat: { enabled: true, display: 'star', message: '¿Qué tal lo hicimos?' } } as never,
  });
  plainInbox = await buildInbox(account._id, { memberIds, settings: { emailCollect: false } as never });
});

afterAll(stopAllTestCharlas);

async function conversationIn(inbox: InboxDoc) {
  const visitor = await openWidget(charla, inbox.websiteToken!);
  await say(charla, visitor.visitorToken, 'Hola');
  const conversationId = await currentConversationId(charla, visitor.visitorToken);
  await charla.mutate(
    `mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { id } }`,
    { id: conversationId, agentId: String(ana.user._id) },
    ana.token,
  );
  return { visitor, conversationId };
}

async function surveys(conversationId: string) {
  await charla.services.bus.idle();
  return (await agentMessages(charla, ana.token, conversationId)).filter((message) => message.contentType === 'INPUT_CSAT');
}

describe('the survey after resolution', () => {
  it('posts one input_csat message in the inbox language on resolve, live to the widget, and never twice', async () => {
    const { visitor, conversationId } = await conversationIn(spanishInbox);
    const events = await charla.subscribe(WIDGET_EVENTS, {}, visitor.visitorToken);
    await setStatus(charla, ana.token, conversationId, 'RESOLVED');
    const posted = await events.waitFor((r) => r.data?.widgetEvents.message?.contentType === 'INPUT_CSAT');
    expect(posted.data.widgetEvents.message).toMatchObject({
      messageType: 'TEMPLATE',
      content: 'Por favor, valora la conversación',
      contentAttributes: { display: 'emoji' },
      sender: { type: 'BOT' },
    });

    // Reopened by the visitor and resolved again: still one survey.
    await say(charla, visitor.visitorToken, 'Una duda más');
    await setStatus(charla, ana.token, conversationId, 'RESOLVED');
    expect(await surveys(conversationId)).toHaveLength(1);
    await events.close();
  });

  it("uses the inbox's own survey text and display", async () => {
    const { conversationId } = await conversationIn(customInbox);
    await setStatus(charla, ana.token, conversationId, 'RESOLVED');
    const [survey] = await surveys(conversationId);
    expect(survey).toMatchObject({ content: '¿Qué tal lo hicimos?', contentAttributes: { display: 'star' } });
  });

  it('posts no survey when the inbox has CSAT off, nor when the conversation is muted', async () => {
    const plain = await conversationIn(plainInbox);
    await setStatus(charla, ana.token, plain.conversationId, 'RESOLVED');
    expect(await surveys(plain.conversationId)).toHaveLength(0);

    const muted = await conversationIn(spanishInbox);
    await charla.mutate(`mutation($id: ID!) { muteConversation(id: $id) { status } }`, { id: muted.conversationId }, ana.token);
    expect(await surveys(muted.conversationId)).toHaveLength(0);
  });
});

describe('submitCsat', () => {
  it('stores the rating linked to the assignee, then the feedback, as one response', async () => {
    const { visitor, conversationId } = await conversationIn(spanishInbox);
    await setStatus(charla, ana.token, conversationId, 'RESOLVED');
    const [survey] = await surveys(conversationId);
    const events = await charla.subscribe(WIDGET_EVENTS, {}, visitor.visitorToken);

    const rated = await charla.mutate(SUBMIT_CSAT, { messageId: survey!.id, rating: 5 }, visitor.visitorToken);
    expect(rated.submitCsat.contentAttributes).toEqual({ display: 'emoji', csat: { rating: 5, feedback: '' } });
    await events.waitFor((r) => r.data?.widgetEvents.type === 'MESSAGE_UPDATED' && r.data.widgetEvents.message.contentAttributes.csat?.rating === 5);

    const withFeedback = await charla.mutate(SUBMIT_CSAT, { messageId: survey!.id, rating: 4, feedback: '<b>Muy rápido</b>' }, visitor.visitorToken);
    expect(withFeedback.submitCsat.contentAttributes.csat).toEqual({ rating: 4, feedback: '<b>Muy rápido</b>' });
    const responses = await CsatResponse.find({ conversationId }).lean();
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({ rating: 4, feedback: '<b>Muy rápido</b>', contactId: expect.anything() });
    expect(String(responses[0]!.assigneeId)).toBe(String(ana.user._id));
    expect(String(responses[0]!.contactId)).toBe(visitor.contact.id);
    await events.close();
  });

  it.each([
    ['a rating of 0', { rating: 0 }],
    ['a rating of 6', { rating: 6 }],
    ['feedback over 2000 characters', { rating: 3, feedback: 'x'.repeat(2001) }],
  ])('refuses %s with input/invalid', async (_case, answer) => {
    const { visitor, conversationId } = await conversationIn(spanishInbox);
    await setStatus(charla, ana.token, conversationId, 'RESOLVED');
    const [survey] = await surveys(conversationId);
    const result = await charla.graphql(SUBMIT_CSAT, { messageId: survey!.id, ...answer }, visitor.visitorToken);
    expect(result.errors?.[0]?.extensions?.code).toBe('input/invalid');
    expect(await CsatResponse.countDocuments({ conversationId })).toBe(0);
  });

  it('refuses a message that is not a survey', async () => {
    const { visitor } = await conversationIn(spanishInbox);
    const own = await say(charla, visitor.visitorToken, 'Hola otra vez');
    const result = await charla.graphql(SUBMIT_CSAT, { messageId: own.id, rating: 5 }, visitor.visitorToken);
    expect(result.errors?.[0]?.extensions?.code).toBe('input/invalid');
  });

  it("refuses another visitor's survey with auth/forbidden", async () => {
    const { conversationId } = await conversationIn(spanishInbox);
    await setStatus(charla, ana.token, conversationId, 'RESOLVED');
    const [survey] = await surveys(conversationId);
    const stranger = await openWidget(charla, spanishInbox.websiteToken!);
    const result = await charla.graphql(SUBMIT_CSAT, { messageId: survey!.id, rating: 1 }, stranger.visitorToken);
    expect(result.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    expect(await CsatResponse.countDocuments({ conversationId })).toBe(0);
  });
});

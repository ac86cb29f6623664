// The presets, switched on by inbox settings, reproduce PRODUCT.md message for message: greeting,
// e-mail capture, out-of-office, the CSAT survey and the bot's hand-off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { Notification } from '../../../server/src/db/models/notification.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { agentMessages, currentConversationId, openWidget, reply, say, setStatus } from '../widget/visitor-client.ts';

let charla: TestCharla;
let ana: BuiltAgent;
let accountId: InboxDoc['accountId'];

const GREETING = '¡Hola! Somos el equipo de Charla. ¿En qué podemos ayudarte?';
const SUBMIT_EMAIL = `mutation($messageId: ID!, $email: String!) { submitEmail(messageId: $messageId, email: $email) { id } }`;
const CONVERSATION = `query($id: ID!) { conversation(id: $id) { status assignee { id } } }`;

/** Every day closed: any moment is outside working hours. */
const ALWAYS_CLOSED = Array.from({ length: 7 }, () => ({ closed: true, openMinute: 540, closeMinute: 1020 }));
/** Every day open all day: any moment is inside. */
const ALWAYS_OPEN = Array.from({ length: 7 }, () => ({ closed: false, openMinute: 0, closeMinute: 1440 }));

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  accountId = account._id;
  // An administrator: she reads every inbox's conversations.
  ana = await buildAgent(account._id, { name: 'Ana García', role: 'administrator' });
});

afterAll(stopAllTestCharlas);

/** The factory writes the inbox directly; tell the server, as the createInbox command does. */
function announce(inbox: InboxDoc): InboxDoc {
  charla.services.bus.publish('settings.changed', { accountId, entity: 'inbox', id: inbox._id, action: 'created', performedBy: { type: 'system', accountId } });
  return inbox;
}

async function inboxWith(settings: Record<string, unknown>): Promise<InboxDoc> {
  return announce(await buildInbox(accountId, { memberIds: [ana.user._id], settings: settings as never }));
}

/** A visitor writes `text` in a new conversation; returns what the agent sees once automation is done. */
async function visitorSays(inbox: InboxDoc, text = 'Hola', identity?: Record<string, unknown>) {
  const visitor = await openWidget(charla, inbox.websiteToken!, identity ? { identity } : {});
  await say(charla, visitor.visitorToken, text);
  const conversationId = await currentConversationId(charla, visitor.visitorToken);
  await charla.services.bus.idle();
  return { visitor, conversationId, messages: await agentMessages(charla, ana.token, conversationId) };
}

const shown = (messages: Array<Record<string, any>>) =>
  messages.filter((message) => message.messageType !== 'ACTIVITY').map((message) => [message.messageType, message.contentType, message.content]);

describe('greeting and e-mail capture', () => {
  it('"Hola" → the greeting, then "Give the team a way to reach you." and the e-mail field', async () => {
    const inbox = await inboxWith({ greeting: { enabled: true, text: GREETING }, emailCollect: true });
    const { messages } = await visitorSays(inbox);
    expect(shown(messages)).toEqual([
      ['INCOMING', 'TEXT', 'Hola'],
      ['TEMPLATE', 'TEXT', GREETING],
      ['TEMPLATE', 'TEXT', 'Give the team a way to reach you.'],
      ['TEMPLATE', 'INPUT_EMAIL', 'Get notified by email'],
    ]);
  });

  it('greets only once and asks for the e-mail only once per conversation', async () => {
    const inbox = await inboxWith({ greeting: { enabled: true, text: GREETING }, emailCollect: true });
    const { visitor, conversationId } = await visitorSays(inbox);
    await say(charla, visitor.visitorToken, '¿Seguís ahí?');
    await charla.services.bus.idle();
    const templates = (await agentMessages(charla, ana.token, conversationId)).filter((message) => message.messageType === 'TEMPLATE');
    expect(templates.map((message) => message.content)).toEqual([GREETING, 'Give the team a way to reach you.', 'Get notified by email']);
    const stored = await Conversation.findById(conversationId).lean();
    const firstIncoming = (await agentMessages(charla, ana.token, conversationId)).find((message) => message.messageType === 'INCOMING');
    expect(String(stored!.firstIncomingMessageId)).toBe(firstIncoming!.id);
  });

  it('does not greet again in a conversation stored before it recorded its first message', async () => {
    const inbox = await inboxWith({ greeting: { enabled: true, text: GREETING } });
    const { visitor, conversationId } = await visitorSays(inbox);
    await Conversation.collection.updateOne({ _id: new Types.ObjectId(conversationId) }, { $unset: { firstIncomingMessageId: '' } });
    await say(charla, visitor.visitorToken, '¿Seguís ahí?');
    await charla.services.bus.idle();
    const templates = (await agentMessages(charla, ana.token, conversationId)).filter((message) => message.messageType === 'TEMPLATE');
    expect(templates.map((message) => message.content)).toEqual([GREETING]);
    // Its first message stays unknown rather than wrongly the newest.
    expect(await Conversation.collection.findOne({ _id: new Types.ObjectId(conversationId), firstIncomingMessageId: { $exists: true } })).toBeNull();
  });

  it('does not ask a contact whose e-mail is known', async () => {
    const inbox = await inboxWith({ greeting: { enabled: true, text: GREETING }, emailCollect: true });
    const { messages } = await visitorSays(inbox, 'Hola', { identifier: 'lucia-7', email: 'lucia@example.test', name: 'Lucía' });
    expect(shown(messages)).toEqual([
      ['INCOMING', 'TEXT', 'Hola'],
      ['TEMPLATE', 'TEXT', GREETING],
    ]);
  });

  it('writes the Spanish texts in a Spanish inbox', async () => {
    const inbox = await inboxWith({ locale: 'es', emailCollect: true });
    const { messages } = await visitorSays(inbox);
    expect(shown(messages)).toEqual([
      ['INCOMING', 'TEXT', 'Hola'],
      ['TEMPLATE', 'TEXT', 'Dale al equipo una forma de llegar a ti.'],
      ['TEMPLATE', 'INPUT_EMAIL', 'Recibir notificaciones por correo electrónico'],
    ]);
  });

  it('fills the greeting\'s variables', async () => {
    const inbox = await inboxWith({ greeting: { enabled: true, text: 'Hola {{contact.name}}, bienvenida a {{inbox.name}}' } });
    const { messages } = await visitorSays(inbox, 'Hola', { identifier: `lucia-${Date.now()}`, name: 'Lucía' });
    expect(shown(messages)[1]).toEqual(['TEMPLATE', 'TEXT', `Hola Lucía, bienvenida a ${inbox.name}`]);
  });

  it('posts nothing when both settings are off', async () => {
    const inbox = await inboxWith({ greeting: { enabled: false, text: GREETING }, emailCollect: false });
    const { messages } = await visitorSays(inbox);
    expect(shown(messages)).toEqual([['INCOMING', 'TEXT', 'Hola']]);
  });

  it('follows a settings change at once', async () => {
    const inbox = await inboxWith({ greeting: { enabled: false, text: GREETING } });
    await charla.mutate(
      `mutation($id: ID!, $input: UpdateInboxInput!) { updateInbox(id: $id, input: $input) { id } }`,
      { id: String(inbox._id), input: { settings: { greeting: { enabled: true, text: 'Bienvenida' } } } },
      (await buildAgent(accountId, { role: 'administrator' })).token,
    );
    const { messages } = await visitorSays(inbox);
    expect(shown(messages)).toEqual([
      ['INCOMING', 'TEXT', 'Hola'],
      ['TEMPLATE', 'TEXT', 'Bienvenida'],
    ]);
  });
});

describe('out of office', () => {
  it('comes first, before the greeting and the e-mail capture, outside working hours', async () => {
    const inbox = await inboxWith({
      greeting: { enabled: true, text: GREETING },
      emailCollect: true,
      workingHours: { enabled: true, timezone: 'Europe/Madrid', outOfOfficeMessage: 'Volvemos el lunes a las 9:00.', days: ALWAYS_CLOSED },
    });
    const { messages } = await visitorSays(inbox);
    expect(shown(messages).map(([, , content]) => content)).toEqual([
      'Hola',
      'Volvemos el lunes a las 9:00.',
      GREETING,
      'Give the team a way to reach you.',
      'Get notified by email',
    ]);
  });

  it('is posted at most once a day per conversation, and never inside working hours', async () => {
    const closed = await inboxWith({ workingHours: { enabled: true, timezone: 'UTC', outOfOfficeMessage: 'Cerrado', days: ALWAYS_CLOSED } });
    const { visitor, conversationId } = await visitorSays(closed);
    await say(charla, visitor.visitorToken, 'Otra cosa');
    await charla.services.bus.idle();
    expect((await agentMessages(charla, ana.token, conversationId)).filter((message) => message.content === 'Cerrado')).toHaveLength(1);

    const open = await inboxWith({ workingHours: { enabled: true, timezone: 'UTC', outOfOfficeMessage: 'Cerrado', days: ALWAYS_OPEN } });
    expect(shown((await visitorSays(open)).messages)).toEqual([['INCOMING', 'TEXT', 'Hola']]);
  });

  it('stays quiet when an agent replied in the last five minutes', async () => {
    const inbox = await inboxWith({ workingHours: { enabled: true, timezone: 'UTC', outOfOfficeMessage: 'Cerrado', days: ALWAYS_CLOSED } });
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await charla.services.bus.idle();
    // The day's message was posted; a new day would allow another, but the agent is talking now.
    await charla.services.bus.idle();
    await reply(charla, ana.token, conversationId, 'Estoy aquí aunque sea tarde');
    const { RuleFiring } = await import('../../../server/src/db/models/rule-run.ts');
    await RuleFiring.updateMany({ conversationId }, { $set: { firedAt: new Date(Date.now() - 2 * 24 * 60 * 60 * 1000) } });
    await say(charla, visitor.visitorToken, 'Gracias');
    await charla.services.bus.idle();
    expect((await agentMessages(charla, ana.token, conversationId)).filter((message) => message.content === 'Cerrado')).toHaveLength(1);
  });
});

describe('the satisfaction survey', () => {
  it('is posted once on resolve when the inbox asks for it, and not at all when it does not', async () => {
    const surveyed = await inboxWith({ csat: { enabled: true, display: 'star', message: '' } });
    const { conversationId } = await visitorSays(surveyed);
    await setStatus(charla, ana.token, conversationId, 'RESOLVED');
    await setStatus(charla, ana.token, conversationId, 'OPEN');
    await setStatus(charla, ana.token, conversationId, 'RESOLVED');
    await charla.services.bus.idle();
    const surveys = (await agentMessages(charla, ana.token, conversationId)).filter((message) => message.contentType === 'INPUT_CSAT');
    expect(surveys).toHaveLength(1);
    expect(surveys[0]).toMatchObject({ messageType: 'TEMPLATE', content: 'Please rate the conversation', contentAttributes: { display: 'star' } });

    const plain = await inboxWith({ csat: { enabled: false } });
    const other = await visitorSays(plain);
    await setStatus(charla, ana.token, other.conversationId, 'RESOLVED');
    await charla.services.bus.idle();
    expect((await agentMessages(charla, ana.token, other.conversationId)).filter((message) => message.contentType === 'INPUT_CSAT')).toEqual([]);
  });
});

describe('a bot inbox', () => {
  async function botInbox(): Promise<InboxDoc> {
    const member = await buildAgent(accountId, { name: `Bea ${Date.now()}`, availability: 'online' });
    const inbox = await buildInbox(accountId, {
      memberIds: [member.user._id],
      settings: { botEnabled: true, emailCollect: true, greeting: { enabled: true, text: GREETING }, autoAssignment: { enabled: true, maxOpenPerAgent: 0 } } as never,
    });
    return Object.assign(announce(inbox), { member });
  }

  it('starts pending, hands off once the e-mail is left: open, the inbox told, auto-assigned', async () => {
    const inbox = (await botInbox()) as InboxDoc & { member: BuiltAgent };
    const { visitor, conversationId, messages } = await visitorSays(inbox);
    expect((await charla.mutate(CONVERSATION, { id: conversationId }, ana.token)).conversation).toEqual({ status: 'PENDING', assignee: null });
    const emailField = messages.find((message) => message.contentType === 'INPUT_EMAIL')!;
    expect(await Notification.countDocuments({ conversationId, userId: inbox.member.user._id })).toBe(0);

    await charla.mutate(SUBMIT_EMAIL, { messageId: emailField.id, email: 'lucia@example.test' }, visitor.visitorToken);
    await charla.services.bus.idle();
    expect((await charla.mutate(CONVERSATION, { id: conversationId }, ana.token)).conversation).toEqual({
      status: 'OPEN',
      assignee: { id: String(inbox.member.user._id) },
    });
    const kinds = (await Notification.find({ conversationId, userId: inbox.member.user._id }).lean()).map((notification) => notification.type);
    expect(kinds).toContain('conversation_created');
    const activity = (await agentMessages(charla, ana.token, conversationId)).filter((message) => message.messageType === 'ACTIVITY').map((message) => message.content);
    expect(activity).toContain('Conversation was reopened by Automation System');
  });

  it('hands off when the visitor asks for a person ("quiero hablar con un agente")', async () => {
    const inbox = await botInbox();
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await charla.services.bus.idle();
    await say(charla, visitor.visitorToken, 'No me sirve, quiero hablar con un AGENTE');
    await charla.services.bus.idle();
    expect((await charla.mutate(CONVERSATION, { id: conversationId }, ana.token)).conversation.status).toBe('OPEN');
  });

  it('hands off at once a contact whose e-mail is already known, after the greeting', async () => {
    const inbox = (await botInbox()) as InboxDoc & { member: BuiltAgent };
    const { conversationId, messages } = await visitorSays(inbox, 'Hola', { identifier: `known-${Date.now()}`, email: `known-${Date.now()}@example.test` });
    expect(shown(messages)).toEqual([
      ['INCOMING', 'TEXT', 'Hola'],
      ['TEMPLATE', 'TEXT', GREETING],
    ]);
    expect((await charla.mutate(CONVERSATION, { id: conversationId }, ana.token)).conversation).toEqual({ status: 'OPEN', assignee: { id: String(inbox.member.user._id) } });
  });

  it('stays pending while the visitor talks to the bot about other things', async () => {
    const inbox = await botInbox();
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    await say(charla, visitor.visitorToken, 'Quiero saber el horario de la agencia');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await charla.services.bus.idle();
    expect((await charla.mutate(CONVERSATION, { id: conversationId }, ana.token)).conversation.status).toBe('PENDING');
  });
});

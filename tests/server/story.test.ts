// The seed's story end to end over the public API, as the widget, the console and an integrator
// would drive it: a visitor says "Hola", agents assign, label, reply, note, delete, snooze, resolve,
// send a transcript, and the visitor's next conversation shows the previous one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCharla, stopAllTestCharlas, type TestCharla, type TestSubscription } from '../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../support/factories.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';

let charla: TestCharla;
let smtp: SmtpSink;
let admin: BuiltAgent;
let ana: BuiltAgent;
let bruno: BuiltAgent;
let websiteToken: string;

const CONVERSATION_FIELDS = `id displayId status snoozedUntil labels muted assignee { id name } contact { id name email }`;
const AGENT_EVENTS = `subscription($inboxId: ID) { conversationEvents(inboxId: $inboxId) {
  type conversation { id status } message { id content private messageType deleted } } }`;
const WIDGET_EVENTS = `subscription { widgetEvents { type message { id content messageType deleted sender { type name } } conversation { id status } } }`;

beforeAll(async () => {
  smtp = await startSmtpSink();
  charla = await startTestCharla({ smtpUrl: smtp.url });
  const account = await buildAccount({ name: 'Tienda Sol', locale: 'en' });
  admin = await buildAgent(account._id, { role: 'administrator', name: 'Marta Admin', email: 'marta@example.test' });
  ana = await buildAgent(account._id, { name: 'Ana García', email: 'ana@example.test', timezone: 'America/Mexico_City' });
  bruno = await buildAgent(account._id, { name: 'Bruno Díaz', email: 'bruno@example.test' });
  const inbox = await buildInbox(account._id, { name: 'Website', memberIds: [ana.user._id, bruno.user._id] });
  websiteToken = inbox.websiteToken!;
  await charla.mutate(`mutation { createLabel(input: { title: "billing" }) { id } }`, {}, admin.token);
});

afterAll(async () => {
  await stopAllTestCharlas();
  await smtp?.stop();
});

/** Content of every message the visitor's subscription delivered, in order. */
function visitorSaw(subscription: TestSubscription<any>): string[] {
  return subscription.results.map((result) => result.data?.widgetEvents?.message?.content).filter((content) => content !== undefined);
}

/** No widget event carried the private note (by id) or any activity line (by message type). */
function expectVisitorSawNoNoteOrActivity(subscription: TestSubscription<any>, noteId: string): void {
  const messages = subscription.results.map((result) => result.data?.widgetEvents?.message).filter(Boolean);
  expect(messages.length).toBeGreaterThan(0);
  expect(messages.filter((message) => message.id === noteId)).toEqual([]);
  expect(messages.filter((message) => message.messageType === 'ACTIVITY')).toEqual([]);
}

describe('the seed story over the API', () => {
  it('runs from "Hola" to the previous conversation of a returning visitor', async () => {
    // The visitor opens the widget and says "Hola".
    const session = await charla.mutate(
      `mutation($websiteToken: String!) { widgetSession(websiteToken: $websiteToken) { visitorToken contact { id } conversation { id } } }`,
      { websiteToken },
    );
    const visitorToken: string = session.widgetSession.visitorToken;
    expect(session.widgetSession.conversation).toBeNull();
    const visitorEvents = await charla.subscribe(WIDGET_EVENTS, {}, visitorToken);
    const anaEvents = await charla.subscribe(AGENT_EVENTS, {}, ana.token);
    const brunoNotifications = await charla.subscribe(
      `subscription { notificationEvents { type text conversation { id displayId } } }`,
      {},
      bruno.token,
    );

    await charla.mutate(`mutation { sendVisitorMessage(content: "Hola") { id content } }`, {}, visitorToken);
    await charla.services.bus.idle();

    // The conversation is open and unassigned, in "All" and "Unassigned" but not in "Mine".
    const list = await charla.mutate(
      `query { conversations(filter: { assignee: UNASSIGNED, status: OPEN }) { edges { node { ${CONVERSATION_FIELDS} } } counts { mine unassigned all } } }`,
      {},
      admin.token,
    );
    expect(list.conversations.edges).toHaveLength(1);
    const conversation = list.conversations.edges[0].node;
    expect(conversation).toMatchObject({ status: 'OPEN', assignee: null, labels: [] });
    expect(list.conversations.counts).toEqual({ mine: 0, unassigned: 1, all: 1 });
    const all = await charla.mutate(
      `query { conversations(filter: { assignee: ALL, status: OPEN }) { edges { node { ${CONVERSATION_FIELDS} } } } }`,
      {},
      admin.token,
    );
    expect(all.conversations.edges.map((edge: any) => edge.node)).toEqual([
      expect.objectContaining({ id: conversation.id, status: 'OPEN', assignee: null, contact: expect.objectContaining({ id: session.widgetSession.contact.id }) }),
    ]);
    await anaEvents.waitFor((r) => r.data?.conversationEvents.type === 'MESSAGE_CREATED' && r.data.conversationEvents.message.content === 'Hola');

    // The administrator assigns Ana; Ana labels it and replies; the visitor sees the reply live.
    const assigned = await charla.mutate(
      `mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { assignee { name } } }`,
      { id: conversation.id, agentId: String(ana.user._id) },
      admin.token,
    );
    expect(assigned.assignConversation.assignee.name).toBe('Ana García');
    const labelled = await charla.mutate(
      `mutation($id: ID!) { addLabels(conversationId: $id, labels: ["billing"]) { labels } }`,
      { id: conversation.id },
      ana.token,
    );
    expect(labelled.addLabels.labels).toEqual(['billing']);

    const send = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id content private } }`;
    const reply = await charla.mutate(send, { input: { conversationId: conversation.id, content: '¡Hola! ¿En qué te ayudo?' } }, ana.token);
    await visitorEvents.waitFor((r) => r.data?.widgetEvents.message?.content === '¡Hola! ¿En qué te ayudo?');

    // A private note mentioning Bruno notifies him; the visitor never receives it.
    const note = await charla.mutate(
      send,
      { input: { conversationId: conversation.id, content: `[@Bruno Díaz](mention://agent/${String(bruno.user._id)}) ¿puedes revisar la factura?`, private: true } },
      ana.token,
    );
    expect(note.sendMessage.private).toBe(true);
    const mention = await brunoNotifications.waitFor((r) => r.data?.notificationEvents.type === 'CONVERSATION_MENTION');
    expect(mention.data.notificationEvents.text).toBe(`You have been mentioned in conversation #${conversation.displayId}`);

    // Ana deletes her reply: both sides see the tombstone. (Waiting for the listeners first puts
    // every activity line of the assignment and labelling before the tombstone on each socket.)
    await charla.services.bus.idle();
    const deleted = await charla.mutate(`mutation($id: ID!) { deleteMessage(id: $id) { id deleted content } }`, { id: reply.sendMessage.id }, ana.token);
    expect(deleted.deleteMessage).toEqual({ id: reply.sendMessage.id, deleted: true, content: 'This message was deleted' });
    const visitorTombstone = await visitorEvents.waitFor(
      (r) => r.data?.widgetEvents.type === 'MESSAGE_UPDATED' && r.data.widgetEvents.message.id === reply.sendMessage.id,
    );
    expect(visitorTombstone.data.widgetEvents.message).toMatchObject({ deleted: true, content: 'This message was deleted' });
    const agentTombstone = await anaEvents.waitFor(
      (r) => r.data?.conversationEvents.type === 'MESSAGE_UPDATED' && r.data.conversationEvents.message.id === reply.sendMessage.id,
    );
    expect(agentTombstone.data.conversationEvents.message).toMatchObject({ deleted: true, content: 'This message was deleted', private: false });
    // Everything the visitor received so far: the reply, then its tombstone — never the note, and
    // no activity line (assignment, label) by any event.
    expectVisitorSawNoNoteOrActivity(visitorEvents, note.sendMessage.id);
    expect(visitorSaw(visitorEvents).some((content) => content.includes('factura'))).toBe(false);

    // Snooze until tomorrow: 09:00 in Ana's timezone, with a wake-up job stored in the database.
    const snoozed = await charla.mutate(
      `mutation($id: ID!) { changeConversationStatus(conversationId: $id, status: SNOOZED, snooze: TOMORROW) { status snoozedUntil } }`,
      { id: conversation.id },
      ana.token,
    );
    expect(snoozed.changeConversationStatus.status).toBe('SNOOZED');
    const wakeUp = new Date(snoozed.changeConversationStatus.snoozedUntil);
    const localWakeUp = new Intl.DateTimeFormat('en-GB', { timeZone: 'America/Mexico_City', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(wakeUp);
    expect(localWakeUp).toBe('09:00');
    expect(wakeUp.getTime()).toBeGreaterThan(Date.now());
    const db = (await import('mongoose')).default.connection.db!;
    const job = await db.collection('agendaJobs').findOne({ name: 'conversation.wake-snoozed', 'data.conversationId': conversation.id });
    expect(job?.nextRunAt?.getTime()).toBe(wakeUp.getTime());

    // The visitor writes again: the conversation reopens.
    await charla.mutate(`mutation { sendVisitorMessage(content: "¿Sigues ahí?") { id } }`, {}, visitorToken);
    await charla.services.bus.idle();
    const reopened = await charla.mutate(`query($id: ID!) { conversation(id: $id) { status } }`, { id: conversation.id }, ana.token);
    expect(reopened.conversation.status).toBe('OPEN');

    // Resolve, then send the transcript to another address through real SMTP.
    const resolved = await charla.mutate(
      `mutation($id: ID!) { changeConversationStatus(conversationId: $id, status: RESOLVED) { status } }`,
      { id: conversation.id },
      ana.token,
    );
    expect(resolved.changeConversationStatus.status).toBe('RESOLVED');
    await charla.mutate(
      `mutation($id: ID!) { sendTranscript(conversationId: $id, to: { email: "cliente@example.test" }) }`,
      { id: conversation.id },
      ana.token,
    );
    const transcript = await smtp.waitFor((mail) => JSON.stringify(mail.to).includes('cliente@example.test'));
    expect(transcript.text).toContain('Hola');
    expect(transcript.text).toContain('¿Sigues ahí?');
    expect(transcript.text).not.toContain('factura');
    expect(transcript.html || '').not.toContain('factura');

    // The agent-side history holds the activity lines of every action.
    const history = await charla.mutate(
      `query($id: ID!) { conversation(id: $id) { messages(first: 50) { edges { node { messageType content private } } } } }`,
      { id: conversation.id },
      ana.token,
    );
    const activity = history.conversation.messages.edges
      .map((edge: any) => edge.node)
      .filter((message: any) => message.messageType === 'ACTIVITY')
      .map((message: any) => message.content);
    expect(activity).toEqual(
      expect.arrayContaining([
        'Assigned to Ana García by Marta Admin',
        'Ana García added billing',
        'Conversation was snoozed by Ana García',
        'Conversation was marked resolved by Ana García',
      ]),
    );
    // The visitor's reopening had no person behind it: no "reopened" line.
    expect(activity.some((line: string) => line.startsWith('Conversation was reopened'))).toBe(false);

    // The visitor starts a new conversation; the agent sees the first one under previous conversations.
    await charla.mutate(`mutation { startNewConversation(content: "Otra pregunta") { id } }`, {}, visitorToken);
    await charla.services.bus.idle();
    // The visitor's own new message comes after every earlier event on the socket: by then the
    // snooze and resolve lines would have reached the visitor if they leaked.
    await visitorEvents.waitFor((r) => r.data?.widgetEvents.type === 'MESSAGE_CREATED' && r.data.widgetEvents.message.content === 'Otra pregunta');
    expectVisitorSawNoNoteOrActivity(visitorEvents, note.sendMessage.id);
    const latest = await charla.mutate(
      `query { conversations(filter: { status: ALL }) { edges { node { id displayId previousConversations { id displayId } } } } }`,
      {},
      admin.token,
    );
    const newest = latest.conversations.edges[0].node;
    expect(newest.id).not.toBe(conversation.id);
    expect(newest.previousConversations.map((c: any) => c.id)).toEqual([conversation.id]);

    await Promise.all([visitorEvents.close(), anaEvents.close(), brunoNotifications.close()]);
  });
});

// Notification e-mails through a real SMTP server: a notification of a type the agent chose
// (assignments and mentions by default) that is still unread after the delay is e-mailed — those
// of one moment together, each once; read in the console first, or switched off, it is not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxEmail } from '../../../server/src/db/models/outbox-email.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { jobExists, jobsSettled } from '../../support/jobs.ts';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';
import { JOB_NAMES } from '../../../server/src/jobs/scheduler.ts';

let charla: TestCharla;
let sink: SmtpSink;

const ASSIGN = `mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { id } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;
const DELAY_MS = 400;

beforeAll(async () => {
  sink = await startSmtpSink();
  charla = await startTestCharla({ smtpUrl: sink.url }, { NOTIFICATION_EMAIL_DELAY_SECONDS: String(DELAY_MS / 1000) });
});
afterAll(async () => {
  await stopAllTestCharlas();
  await sink?.stop();
});

async function scene(locale: 'en' | 'es' = 'en') {
  const account = await buildAccount();
  const admin = await buildAgent(account._id, { role: 'administrator', name: 'Marta' });
  const olga = await buildAgent(account._id, { name: 'Olga', locale });
  const inbox = await buildInbox(account._id, { memberIds: [olga.user._id] });
  const conversation = await buildConversation(await buildContact(inbox));
  return { admin, olga, conversation };
}

const mailsTo = (agent: BuiltAgent) => sink.messages.filter((mail) => mail.to && !Array.isArray(mail.to) && mail.to.value[0]?.address === agent.user.email);
/** Every notification e-mail job of the agent has run. */
const jobsDone = (agent: BuiltAgent) => jobsSettled(JOB_NAMES.emailNotifications, { userId: String(agent.user._id) });
const queuedFor = (agent: BuiltAgent) => OutboxEmail.countDocuments({ kind: 'notification', to: agent.user.email });

describe('notification e-mails', () => {
  it('e-mails an unread assignment and mention of one moment together, once, with links to the conversation', async () => {
    const { admin, olga, conversation } = await scene('es');
    await charla.mutate(ASSIGN, { id: String(conversation._id), agentId: String(olga.user._id) }, admin.token);
    await charla.mutate(SEND, { input: { conversationId: String(conversation._id), content: `[@Olga](mention://agent/${String(olga.user._id)}) mira esto`, private: true } }, admin.token);
    const mail = await sink.waitFor((found) => mailsTo(olga).includes(found));
    expect(mail.subject).toBe('Tienes 2 notificaciones sin leer');
    expect(mail.text).toContain(`Se te ha asignado la conversación #${conversation.displayId}`);
    expect(mail.text).toContain(`Has sido mencionado en la conversación #${conversation.displayId}`);
    expect(mail.text).toContain(`Abrir la conversación: ${charla.url}/app/conversations/${conversation.displayId}`);
    await jobsDone(olga);
    expect(await queuedFor(olga)).toBe(1);
    expect(await OutboxEmail.countDocuments({ kind: 'notification', to: olga.user.email, status: 'sent' })).toBe(1);
  });

  it('sends nothing for a notification read in the console before the delay', async () => {
    const { admin, olga, conversation } = await scene();
    await charla.mutate(ASSIGN, { id: String(conversation._id), agentId: String(olga.user._id) }, admin.token);
    await charla.services.bus.idle();
    await charla.mutate(`mutation { markNotificationsRead }`, {}, olga.token);
    // The job ran, found the notification read, and queued nothing.
    await jobsDone(olga);
    expect(await queuedFor(olga)).toBe(0);
  });

  it('sends nothing of a type the agent switched off', async () => {
    const { admin, olga, conversation } = await scene();
    const { setEmailNotifications } = await charla.mutate(`mutation { setEmailNotifications(types: []) { emailNotifications } }`, {}, olga.token);
    expect(setEmailNotifications).toEqual({ emailNotifications: [] });
    await charla.mutate(SEND, { input: { conversationId: String(conversation._id), content: `[@Olga](mention://agent/${String(olga.user._id)}) otra`, private: true } }, admin.token);
    await charla.services.bus.idle();
    // Nothing to wait for: no e-mail is even planned.
    expect(await jobExists(JOB_NAMES.emailNotifications, { userId: String(olga.user._id) })).toBe(false);
    expect(await queuedFor(olga)).toBe(0);
  });

  it('e-mails a single notification with its own text as the subject, and refuses unknown types', async () => {
    const { admin, olga, conversation } = await scene();
    const { me } = await charla.mutate(`{ me { emailNotifications } }`, {}, olga.token);
    expect(me.emailNotifications).toEqual(['CONVERSATION_ASSIGNED', 'CONVERSATION_MENTION']);
    await charla.mutate(ASSIGN, { id: String(conversation._id), agentId: String(olga.user._id) }, admin.token);
    const mail = await sink.waitFor((found) => mailsTo(olga).includes(found));
    expect(mail.subject).toBe(`Conversation #${conversation.displayId} has been assigned to you`);
    const refused = await charla.graphql(`mutation { setEmailNotifications(types: [NOPE]) { id } }`, {}, olga.token);
    expect(refused.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

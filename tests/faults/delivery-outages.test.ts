// The SMTP server and a webhook receiver are down while Charla has mail and webhook deliveries to
// make, and the server is SIGKILLed with them pending: after the restart and once both endpoints
// are back, every e-mail and every webhook delivery arrives exactly once.
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { cleanUpInstallations, eventually, startInstallation } from './installation.ts';

let smtp: SmtpSink | undefined;
let receiver: HttpReceiver | undefined;

afterEach(async () => {
  await cleanUpInstallations();
  await smtp?.stop();
  await receiver?.close();
  smtp = receiver = undefined;
});

/** A port nothing listens on now (connections to it are refused): where the endpoints will come back. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('SMTP and a webhook receiver down, and the server killed meanwhile', () => {
  it('delivers every e-mail and every webhook exactly once after they come back', async () => {
    const smtpPort = await freePort();
    const hookPort = await freePort();
    const env = {
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1',
      DELIVERY_RETRY_BASE_SECONDS: '0.5',
      DELIVERY_SWEEP_SECONDS: '1',
      DELIVERY_SWEEP_GRACE_SECONDS: '2',
      // The killed process keeps the locks of the jobs it held (and of some due soon): short, so
      // the test need not wait the production default for them.
      JOB_LOCK_SECONDS: '5',
    };
    const installation = await startInstallation(env);
    const adminToken = await installation.login();
    await installation.mutate(
      `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
      { input: { url: `http://127.0.0.1:${hookPort}/hooks`, events: ['CONVERSATION_CREATED', 'MESSAGE_CREATED'] } },
      adminToken,
    );

    // Two visitors who left their e-mail write and ask for the transcript; an agent answers one of them.
    for (const [identifier, email] of [['lucia-7', 'lucia@example.com'], ['mateo-3', 'mateo@example.com']] as const) {
      const { widgetSession } = await installation.mutate(
        `mutation($websiteToken: String!, $identity: VisitorIdentityInput) { widgetSession(websiteToken: $websiteToken, identity: $identity) { visitorToken } }`,
        { websiteToken: installation.websiteToken, identity: { identifier, email } },
      );
      const visitorToken: string = widgetSession.visitorToken;
      await installation.mutate(`mutation { sendVisitorMessage(content: "Mi pedido no ha llegado") { id } }`, {}, visitorToken);
      if (identifier === 'lucia-7') {
        const conversationId: string = (await installation.mutate(`{ visitorConversation { id } }`, {}, visitorToken)).visitorConversation.id;
        await installation.mutate(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId, content: 'Lo miro ahora mismo' } }, adminToken);
      }
      expect((await installation.mutate(`mutation { requestTranscript }`, {}, visitorToken)).requestTranscript).toBe(true);
    }

    // Both kinds have been tried against the dead endpoints and wait for another try.
    const outbox = installation.db.collection('outboxEmails');
    const webhookDeliveries = installation.db.collection('webhookDeliveries');
    await eventually('every delivery to have failed once', async () => {
      const [emails, hooks] = await Promise.all([outbox.find().toArray(), webhookDeliveries.find().toArray()]);
      const tried = (documents: Array<Record<string, unknown>>) => documents.length > 0 && documents.every((document) => Number(document.attempts ?? 0) >= 1);
      return emails.length === 2 && tried(emails) && tried(hooks) ? true : undefined;
    });
    expect(await outbox.countDocuments({ status: 'sent' })).toBe(0);
    expect(await webhookDeliveries.countDocuments({ status: 'delivered' })).toBe(0);

    // The server dies with everything pending, and comes back.
    await installation.kill();
    await installation.restart(env);
    smtp = await startSmtpSink(smtpPort);
    receiver = await startHttpReceiver({ port: hookPort, path: '/hooks' });

    await eventually('every e-mail to be sent', async () => ((await outbox.countDocuments({ status: { $ne: 'sent' } })) === 0 ? true : undefined), 90_000);
    await eventually('every webhook delivery to be delivered', async () => ((await webhookDeliveries.countDocuments({ status: { $ne: 'delivered' } })) === 0 ? true : undefined), 90_000);

    // Exactly once: one mail per outbox e-mail (distinct Message-IDs), one request per delivery id.
    const emails = await outbox.find().toArray();
    await smtp.waitFor(() => smtp!.messages.length >= emails.length);
    expect(smtp.messages).toHaveLength(emails.length);
    expect(new Set(smtp.messages.map((mail) => mail.messageId)).size).toBe(emails.length);
    const recipients = smtp.messages.flatMap((mail) => [mail.to].flat().flatMap((to) => to?.value.map((address) => address.address) ?? [])).sort();
    expect(recipients).toEqual(['lucia@example.com', 'mateo@example.com']);

    const deliveries = await webhookDeliveries.find().toArray();
    const deliveryIds = deliveries.map((delivery) => String(delivery._id)).sort();
    expect(deliveries.map((delivery) => delivery.event)).toEqual(expect.arrayContaining(['conversation_created', 'message_created']));
    const received = receiver.received.map((request) => String(request.headers['x-charla-delivery'])).sort();
    expect(received).toEqual(deliveryIds);
  });
});

// An SMTP outage across a restart: a transcript asked for while the mail server is down stays in
// the outbox, survives the Charla server being restarted, and is delivered once — exactly once —
// after the mail server comes back.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { OutboxEmail } from '../../../server/src/db/models/outbox-email.ts';
import { startTestCharla, stopAllTestCharlas } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox } from '../../support/factories.ts';
import { startTestMongo, type TestMongo } from '../../support/mongo.ts';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';
import { jobsSettled } from '../../support/jobs.ts';
import { JOB_NAMES } from '../../../server/src/jobs/scheduler.ts';

let mongo: TestMongo | undefined;
let sink: SmtpSink | undefined;

afterAll(async () => {
  await stopAllTestCharlas();
  await sink?.stop();
  await mongo?.stop();
});

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the outbox through an SMTP outage and a restart', () => {
  it('keeps the transcript while the mail server is down and delivers it once when it is back', async () => {
    mongo = await startTestMongo();
    const port = await freePort();
    const smtpUrl = `smtp://127.0.0.1:${port}`;
    const first = await startTestCharla({ mongodbUri: mongo.dbUri, smtpUrl });
    const account = await buildAccount();
    const ana = await buildAgent(account._id);
    const inbox = await buildInbox(account._id, { memberIds: [ana.user._id] });
    const conversation = await buildConversation(await buildContact(inbox, { email: 'lucia@example.com' }));
    await first.mutate(`mutation($id: ID!) { sendTranscript(conversationId: $id, to: { contact: true }) }`, { id: String(conversation._id) }, ana.token);

    // Connection refused: the failure is recorded and the e-mail stays queued.
    await until(async () => ((await OutboxEmail.findOne({ conversationId: conversation._id }).lean())?.attempts ?? 0) >= 1);
    expect(await OutboxEmail.findOne({ conversationId: conversation._id }).lean()).toMatchObject({ status: 'queued', lastError: expect.stringMatching(/ECONNREFUSED/) });
    await first.stop();

    sink = await startSmtpSink(port);
    await startTestCharla({ mongodbUri: mongo.dbUri, smtpUrl });
    const mail = await sink.waitFor((found) => found.subject === `Transcript of conversation #${conversation.displayId}`, 30_000);
    expect(mail.to).toMatchObject({ value: [{ address: 'lucia@example.com' }] });
    const email = (await OutboxEmail.findOne({ conversationId: conversation._id }).lean())!;
    // Every delivery job of the e-mail has run: one message reached the server in all.
    await jobsSettled(JOB_NAMES.deliverOutboxEmail, { outboxEmailId: String(email._id) });
    expect(await OutboxEmail.findById(email._id).lean()).toMatchObject({ status: 'sent' });
    expect(sink.messages).toHaveLength(1);
  });
});

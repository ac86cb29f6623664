// The outbox job that delivers stored e-mails: an SMTP failure is retried with backoff until the
// server takes the e-mail, and an e-mail already sent is never sent again.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sendTranscript } from '../../../server/src/commands/send-transcript.ts';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { OutboxEmail } from '../../../server/src/db/models/outbox-email.ts';
import { deliverOutboxEmail, OUTBOX_RETRIES } from '../../../server/src/jobs/deliver-outbox-email.ts';
import { createMailer } from '../../../server/src/mail/mailer.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildInbox } from '../../support/factories.ts';
import { currentConversationId, openWidget, say } from '../widget/visitor-client.ts';

/** A real SMTP server that turns the first `failures` messages away with a temporary error. */
async function startFlakySmtp(failures: number) {
  const received: ParsedMail[] = [];
  let refused = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          if (refused < failures) {
            refused += 1;
            const error = Object.assign(new Error('Try again later'), { responseCode: 451 });
            callback(error);
            return;
          }
          received.push(mail);
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    refusedCount: () => refused,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let charla: TestCharla;
let smtp: Awaited<ReturnType<typeof startFlakySmtp>>;
let websiteToken: string;

beforeAll(async () => {
  smtp = await startFlakySmtp(2);
  charla = await startTestCharla({ smtpUrl: smtp.url });
  const account = await buildAccount();
  websiteToken = (await buildInbox(account._id, { settings: { emailCollect: false } as never })).websiteToken!;
});

afterAll(async () => {
  await stopAllTestCharlas();
  await smtp?.stop();
});

describe('outbox delivery', () => {
  it('retries a refused e-mail with backoff until the SMTP server takes it, then never sends it again', async () => {
    const visitor = await openWidget(charla, websiteToken);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversation = await Conversation.findById(await currentConversationId(charla, visitor.visitorToken));
    const { outboxEmailId } = await sendTranscript(charla.services, {
      conversation: conversation!,
      to: ['retry@example.test'],
      performedBy: { type: 'system', accountId: conversation!.accountId },
    });

    // Two refusals (backoff 1 s, then 2 s), then delivered.
    await vi.waitFor(
      async () => {
        expect(await OutboxEmail.findById(outboxEmailId).lean()).toMatchObject({ status: 'sent', attempts: 3, lastError: null });
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(smtp.refusedCount()).toBe(2);
    expect(smtp.received).toHaveLength(1);
    expect(JSON.stringify(smtp.received[0]!.to)).toContain('retry@example.test');
    expect(smtp.received[0]!.text).toContain('Hola');

    // Running the job again (a duplicate run, a restart) sends nothing.
    await deliverOutboxEmail(charla.services, { outboxEmailId: String(outboxEmailId) });
    expect(smtp.received).toHaveLength(1);
  });

  it('records each failure on the outbox e-mail, and marks it failed after the last retry', async () => {
    const accountId = (await Conversation.findOne().lean())!.accountId;
    // A real mailer pointed at a port where nothing listens.
    const unreachable = { ...charla.services, mailer: createMailer({ smtpUrl: 'smtp://127.0.0.1:1', from: 'x@example.test', outboxDir: charla.dataDir, logger: charla.services.logger }) };
    const queued = await OutboxEmail.create({ accountId, kind: 'transcript', to: ['broken@example.test'], subject: 'x', text: 'x', html: '<p>x</p>' });
    await expect(deliverOutboxEmail(unreachable, { outboxEmailId: String(queued._id) })).rejects.toThrow();
    expect(await OutboxEmail.findById(queued._id).lean()).toMatchObject({ status: 'queued', attempts: 1, lastError: expect.stringMatching(/ECONNREFUSED|connect/) });

    const lastTry = await OutboxEmail.create({ accountId, kind: 'transcript', to: ['broken@example.test'], subject: 'x', text: 'x', html: '<p>x</p>', attempts: OUTBOX_RETRIES });
    await expect(deliverOutboxEmail(unreachable, { outboxEmailId: String(lastTry._id) })).rejects.toThrow();
    expect(await OutboxEmail.findById(lastTry._id).lean()).toMatchObject({ status: 'failed', attempts: OUTBOX_RETRIES + 1 });
  });
});

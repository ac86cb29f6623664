// Without SMTP_URL a fresh install still "sends" e-mail: each message is written as an .eml file
// under DATA_DIR/outbox, where an operator can read it.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxEmail } from '../../../server/src/db/models/outbox-email.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { currentConversationId, openWidget, say } from '../widget/visitor-client.ts';

let charla: TestCharla;
let ana: BuiltAgent;
let websiteToken: string;

beforeAll(async () => {
  charla = await startTestCharla({ smtpUrl: undefined });
  const account = await buildAccount();
  ana = await buildAgent(account._id, { name: 'Ana García' });
  websiteToken = (await buildInbox(account._id, { memberIds: [ana.user._id], settings: { emailCollect: false } as never })).websiteToken!;
});

afterAll(stopAllTestCharlas);

describe('e-mail without SMTP_URL', () => {
  it('writes the transcript as an .eml file in DATA_DIR/outbox and marks it sent', async () => {
    const session = await openWidget(charla, websiteToken);
    await say(charla, session.visitorToken, 'Hola, ¿tienen envío gratis?');
    const conversationId = await currentConversationId(charla, session.visitorToken);
    await charla.mutate(
      `mutation($id: ID!) { sendTranscript(conversationId: $id, to: { email: "dueno@example.test" }) }`,
      { id: conversationId },
      ana.token,
    );

    const outbox = join(charla.dataDir, 'outbox');
    const deadline = Date.now() + 10_000;
    let files: string[] = [];
    while (files.length === 0) {
      files = (await readdir(outbox).catch(() => [] as string[])).filter((file) => file.endsWith('.eml'));
      if (files.length > 0) break;
      if (Date.now() > deadline) throw new Error('no .eml file appeared in the outbox folder');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const mail = await simpleParser(await readFile(join(outbox, files[0]!)));
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').toContain('dueno@example.test');
    expect(mail.text).toContain('Hola, ¿tienen envío gratis?');
    await charla.services.bus.idle();
    const deadlineSent = Date.now() + 5_000;
    while ((await OutboxEmail.findOne({ to: 'dueno@example.test' }).lean())?.status !== 'sent') {
      if (Date.now() > deadlineSent) throw new Error('the outbox e-mail was not marked sent');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});

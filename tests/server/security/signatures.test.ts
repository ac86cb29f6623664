// Forged signatures, the ways an attacker would try them: the widget's verified identity
// (identifierHash) and the API channel's signed webhook (X-Charla-Signature) each refuse a
// signature of another identifier or body, of another inbox's secret, cut short, re-cased into
// garbage, replayed from the past or dated in the future — and nothing is stored or taken over.
import { createHmac } from 'node:crypto';
import { sign } from '@charla/channels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contact } from '../../../server/src/db/models/contact.ts';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { securityTally } from '../../support/security-tally.ts';
import { SESSION } from '../widget/visitor-client.ts';

const tally = securityTally('forged signatures');

let charla: TestCharla;
let admin: BuiltAgent;
let strictInbox: InboxDoc;
let otherInbox: InboxDoc;

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator' });
  strictInbox = await buildInbox(account._id, { hmacMandatory: true, memberIds: [admin.user._id] });
  otherInbox = await buildInbox(account._id, { memberIds: [admin.user._id] });
});

afterAll(stopAllTestCharlas);

const hmacHex = (identifier: string, secret: string): string => createHmac('sha256', secret).update(identifier).digest('hex');

describe('a verified widget identity', () => {
  it('refuses every forged identifierHash with auth/identity_invalid and creates no contact with that identifier', async () => {
    const genuine = hmacHex('cliente-7', strictInbox.hmacSecret!);
    const forgeries: Record<string, unknown> = {
      "another identifier's valid hash": hmacHex('cliente-8', strictInbox.hmacSecret!),
      "another inbox's secret": hmacHex('cliente-7', otherInbox.hmacSecret!),
      'the secret itself': strictInbox.hmacSecret,
      'cut short': genuine.slice(0, 63),
      'one more character': `${genuine}0`,
      'not hexadecimal': `${genuine.slice(0, 63)}g`,
      'empty': '',
      'the identifier': 'cliente-7',
      'a SHA-256 without the secret': createHmac('sha256', '').update('cliente-7').digest('hex'),
    };
    for (const [name, identifierHash] of Object.entries(forgeries)) {
      const result = await charla.graphql(SESSION, { websiteToken: strictInbox.websiteToken, identity: { identifier: 'cliente-7', identifierHash, email: 'cliente7@example.test' } });
      expect(tally.expectDenied(result.errors?.[0]?.extensions?.code === 'auth/identity_invalid'), name).toBe(true);
      expect(result.data ?? null).toBeNull();
    }
    expect(await Contact.exists({ identifier: 'cliente-7' })).toBeNull();
    expect(await Contact.exists({ email: 'cliente7@example.test' })).toBeNull();

    // The genuine hash, in either case, is what lets the identity in.
    const { widgetSession } = await charla.mutate(SESSION, { websiteToken: strictInbox.websiteToken, identity: { identifier: 'cliente-7', identifierHash: genuine.toUpperCase() } });
    expect((await Contact.findById(widgetSession.contact.id).lean())?.identifier).toBe('cliente-7');
  });
});

describe("the API channel's signed webhook", () => {
  async function apiInbox() {
    const { createInbox } = await charla.mutate(`mutation { createInbox(input: { name: "CRM", channelType: API }) { id hmacSecret } }`, {}, admin.token);
    return createInbox as { id: string; hmacSecret: string };
  }

  async function post(inboxId: string, body: Buffer, signature: string | undefined) {
    const response = await fetch(`${charla.url}/channels/${inboxId}/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature !== undefined && { 'x-charla-signature': signature }) },
      body,
    });
    return { status: response.status, code: ((await response.json()) as { error?: { code?: string } }).error?.code };
  }

  const payload = (content: string) => Buffer.from(JSON.stringify({ contact: { sourceId: 'crm-1', name: 'Lucía' }, message: { externalId: `m-${content}`, content } }));

  it('refuses forged, tampered, replayed and future signatures with 401 channel/signature_invalid, storing nothing', async () => {
    const inbox = await apiInbox();
    const other = await apiInbox();
    const body = payload('hola');
    const now = new Date();
    const genuine = sign(inbox.hmacSecret, body, now);
    const [, digest] = genuine.split(',v1=') as [string, string];
    const forgeries: Record<string, string | undefined> = {
      'no header': undefined,
      "another inbox's secret": sign(other.hmacSecret, body, now),
      'a signature of another body': sign(inbox.hmacSecret, payload('otra cosa'), now),
      'replayed after ten minutes': sign(inbox.hmacSecret, body, new Date(now.getTime() - 10 * 60_000)),
      'dated ten minutes ahead': sign(inbox.hmacSecret, body, new Date(now.getTime() + 10 * 60_000)),
      'the digest without its time': `v1=${digest}`,
      'a changed time with the old digest': `t=${Math.floor(now.getTime() / 1000) + 1},v1=${digest}`,
      'cut short': genuine.slice(0, -1),
      'the secret as the digest': `t=${Math.floor(now.getTime() / 1000)},v1=${inbox.hmacSecret}`,
      'a huge header': `${genuine},${'x'.repeat(10_000)}`,
    };
    for (const [name, signature] of Object.entries(forgeries)) {
      const result = await post(inbox.id, body, signature);
      expect(tally.expectDenied(result.status === 401 && result.code === 'channel/signature_invalid'), name).toBe(true);
    }
    // The genuine signature on a tampered body.
    const tampered = await post(inbox.id, payload('hola, soy otra persona'), genuine);
    expect(tally.expectDenied(tampered.status === 401 && tampered.code === 'channel/signature_invalid')).toBe(true);
    // Another inbox's endpoint with this inbox's genuine signature.
    const elsewhere = await post(other.id, body, genuine);
    expect(tally.expectDenied(elsewhere.status === 401 && elsewhere.code === 'channel/signature_invalid')).toBe(true);
    expect(await Conversation.countDocuments({ inboxId: { $in: [inbox.id, other.id] } })).toBe(0);

    expect((await post(inbox.id, body, genuine)).status).toBe(200);
    expect(await Conversation.countDocuments({ inboxId: inbox.id })).toBe(1);
  });
});

// The API channel's GraphQL entrance: an integrator with an access token brings a contact's
// message into an API inbox it may see — once per externalId — and nowhere else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';

let charla: TestCharla;
let admin: BuiltAgent;
let outsider: BuiltAgent;
let inboxId: string;
let apiToken: string;

const RECEIVE = `mutation($inboxId: ID!, $input: ApiInboundMessageInput!) {
  receiveApiMessage(inboxId: $inboxId, input: $input) { stored conversation { id status contact { name email } } } }`;

const input = (externalId: string) => ({ contact: { sourceId: 'erp-77', name: 'Lucía', email: 'lucia@example.test' }, externalId, content: '¿Y mi factura?' });

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator' });
  outsider = await buildAgent(account._id);
  const created = await charla.mutate(`mutation { createInbox(input: { name: "ERP", channelType: API }) { id } }`, {}, admin.token);
  inboxId = created.createInbox.id;
  apiToken = (await charla.mutate(`mutation { createAccessToken(name: "ERP integration") { token } }`, {}, admin.token)).createAccessToken.token;
});

afterAll(stopAllTestCharlas);

describe('receiveApiMessage', () => {
  it('stores the message once and answers with its conversation', async () => {
    const first = (await charla.mutate(RECEIVE, { inboxId, input: input('erp-msg-1') }, apiToken)).receiveApiMessage;
    expect(first).toMatchObject({ stored: true, conversation: { status: 'OPEN', contact: { name: 'Lucía', email: 'lucia@example.test' } } });
    const again = (await charla.mutate(RECEIVE, { inboxId, input: input('erp-msg-1') }, apiToken)).receiveApiMessage;
    expect(again).toEqual({ stored: false, conversation: first.conversation });
    expect(await Conversation.countDocuments({ inboxId })).toBe(1);
  });

  it('takes attachments by address, through the outbound network policy', async () => {
    const withFile = { ...input('erp-msg-file'), attachments: [{ url: 'http://127.0.0.1:9/factura.pdf', fileName: 'factura.pdf' }] };
    expect((await charla.mutate(RECEIVE, { inboxId, input: withFile }, apiToken)).receiveApiMessage).toMatchObject({ stored: true });
    const stored = (await Message.findOne({ inboxId, externalId: 'erp-msg-file' }).lean())!;
    expect(stored.contentAttributes.skippedAttachments).toEqual([{ fileName: 'factura.pdf', reason: 'the address is in a private network' }]);
    const badUrl = await charla.graphql(RECEIVE, { inboxId, input: { ...input('erp-bad-url'), attachments: [{ url: 'file:///etc/passwd', fileName: 'x' }] } }, apiToken);
    expect(badUrl.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', details: { field: 'input.attachments.0.url' } });
  });

  it('is refused without a token, for an agent outside the inbox, for other inboxes and for bad input', async () => {
    expect((await charla.graphql(RECEIVE, { inboxId, input: input('x') })).errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
    expect((await charla.graphql(RECEIVE, { inboxId, input: input('x') }, outsider.token)).errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    const web = await buildInbox(admin.user.accountId);
    expect((await charla.graphql(RECEIVE, { inboxId: String(web._id), input: input('x') }, apiToken)).errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', details: { field: 'inboxId' } });
    const tooLong = await charla.graphql(RECEIVE, { inboxId, input: { ...input('y'), content: 'x'.repeat(10_001) } }, apiToken);
    expect(tooLong.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', details: { field: 'input.content' } });
    const injected = await charla.graphql(RECEIVE, { inboxId, input: { ...input('z'), externalId: { $ne: null } } }, apiToken);
    expect(injected.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await Conversation.countDocuments({ inboxId })).toBe(1);
  });
});

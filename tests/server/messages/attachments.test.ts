// Attachments: uploaded over HTTP, sniffed, sent with a message, and downloaded only by callers who
// may see the conversation (or with a signed link from an e-mail transcript), served so a browser
// never runs them.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../server/src/config.ts';
import { Attachment } from '../../../server/src/db/models/attachment.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import { signedAttachmentUrl } from '../../../server/src/http/attachments.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox } from '../../support/factories.ts';

const UPLOAD_LIMIT = 1_000;
// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla({ uploadLimitBytes: UPLOAD_LIMIT });
});
afterAll(stopAllTestCharlas);

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  id attachments { id fileName contentType size url } } }`;

async function scene() {
  const account = await buildAccount();
  const ana = await buildAgent(account._id, { name: 'Ana' });
  const bruno = await buildAgent(account._id, { name: 'Bruno' });
  const olga = await buildAgent(account._id, { name: 'Olga' });
  const inbox = await buildInbox(account._id, { memberIds: [ana.user._id, bruno.user._id] });
  const otherInbox = await buildInbox(account._id, { memberIds: [olga.user._id] });
  const visitor = await buildContact(inbox);
  const conversation = await buildConversation(visitor);
  return { account, ana, bruno, olga, inbox, otherInbox, visitor, conversation, conversationId: String(conversation._id) };
}

const upload = (bytes: Buffer | string, options: Parameters<TestCharla['upload']>[1]) => charla.upload(bytes, options);

function download(id: string, token?: string): Promise<Response> {
  return fetch(`${charla.url}/attachments/${id}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

describe('uploading and downloading attachments', () => {
  it('stores an upload with the type sniffed from its bytes, sends it and serves it to an agent of the inbox safely', async () => {
    const { ana, bruno, conversationId } = await scene();
    const uploaded = await upload(PNG, { token: ana.token, conversationId, fileName: 'pixel.html', claimedType: 'text/html' });
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), fileName: 'pixel.html', contentType: 'image/png', size: PNG.length });

    const { sendMessage } = await charla.mutate(SEND, { input: { conversationId, content: '', attachmentIds: [uploaded.body.id] } }, ana.token);
    expect(sendMessage.attachments).toEqual([
      { id: uploaded.body.id, fileName: 'pixel.html', contentType: 'image/png', size: PNG.length, url: `${charla.url}/attachments/${uploaded.body.id}` },
    ]);
    expect((await Attachment.findById(uploaded.body.id).lean())!.conversationId?.toString()).toBe(conversationId);

    const response = await fetch(sendMessage.attachments[0].url, { headers: { authorization: `Bearer ${bruno.token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('content-disposition')).toMatch(/^inline; filename="pixel.html"/);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(PNG);
  });

  it('serves a text file claimed to be an image as a plain-text download', async () => {
    const { ana, conversationId } = await scene();
    const uploaded = await upload('<script>alert(1)</script>', { token: ana.token, conversationId, fileName: 'cat.png', claimedType: 'image/png' });
    expect(uploaded.body.contentType).toBe('text/plain');
    await charla.mutate(SEND, { input: { conversationId, content: 'Mira', attachmentIds: [uploaded.body.id] } }, ana.token);

    const response = await download(uploaded.body.id, ana.token);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="cat.png"/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses downloads to an agent of another inbox, anonymous callers and unknown ids', async () => {
    const { ana, olga, conversationId } = await scene();
    const uploaded = await upload(PNG, { token: ana.token, conversationId, fileName: 'pixel.png' });
    await charla.mutate(SEND, { input: { conversationId, content: 'Foto', attachmentIds: [uploaded.body.id] } }, ana.token);

    const byOlga = await download(uploaded.body.id, olga.token);
    expect(byOlga.status).toBe(403);
    expect(await byOlga.json()).toEqual({ error: { code: 'auth/forbidden', message: expect.any(String) } });
    expect((await download(uploaded.body.id)).status).toBe(401);
    expect((await download(uploaded.body.id, 'chs_not-a-real-token')).status).toBe(401);
    expect((await download('A'.repeat(43), ana.token)).status).toBe(404);
  });

  it('lets only the uploader download or use an upload before it is sent', async () => {
    const { ana, bruno, conversationId } = await scene();
    const uploaded = await upload(PNG, { token: ana.token, conversationId, fileName: 'draft.png' });

    expect((await download(uploaded.body.id, ana.token)).status).toBe(200);
    expect((await download(uploaded.body.id, bruno.token)).status).toBe(403);
    const byBruno = await charla.graphql(SEND, { input: { conversationId, content: 'Robado', attachmentIds: [uploaded.body.id] } }, bruno.token);
    expect(byBruno.errors?.[0]?.extensions?.code).toBe('input/invalid');
    expect(await Message.countDocuments({ conversationId })).toBe(0);
  });

  it('uses an upload only once and only in the inbox it was uploaded for', async () => {
    const { ana, conversationId, account } = await scene();
    const uploaded = await upload(PNG, { token: ana.token, conversationId, fileName: 'once.png' });
    await charla.mutate(SEND, { input: { conversationId, content: 'Una vez', attachmentIds: [uploaded.body.id] } }, ana.token);
    const again = await charla.graphql(SEND, { input: { conversationId, content: 'Otra vez', attachmentIds: [uploaded.body.id] } }, ana.token);
    expect(again.errors?.[0]?.extensions?.code).toBe('input/invalid');

    const elsewhereInbox = await buildInbox(account._id, { memberIds: [ana.user._id] });
    const elsewhere = await buildConversation(await buildContact(elsewhereInbox));
    const fresh = await upload(PNG, { token: ana.token, conversationId, fileName: 'fresh.png' });
    const crossInbox = await charla.graphql(
      SEND,
      { input: { conversationId: String(elsewhere._id), content: 'Otro buzón', attachmentIds: [fresh.body.id] } },
      ana.token,
    );
    expect(crossInbox.errors?.[0]?.extensions?.code).toBe('input/invalid');
    // A refused message leaves the upload free to use where it belongs.
    const ok = await charla.mutate(SEND, { input: { conversationId, content: 'Aquí sí', attachmentIds: [fresh.body.id] } }, ana.token);
    expect(ok.sendMessage.attachments).toHaveLength(1);
  });

  it('refuses uploads from anonymous callers and into conversations the agent cannot see', async () => {
    const { olga, conversationId } = await scene();
    const anonymous = await upload(PNG, { conversationId });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('auth/unauthenticated');
    const outsider = await upload(PNG, { token: olga.token, conversationId });
    expect(outsider.status).toBe(403);
    const noConversation = await upload(PNG, { token: olga.token });
    expect(noConversation.status).toBe(400);
    expect(noConversation.body.error.code).toBe('input/invalid');
  });

  it('refuses a file over the size limit with 413 attachment/too_large and keeps nothing', async () => {
    const { ana, conversationId } = await scene();
    const before = await Attachment.countDocuments({});
    const tooBig = await upload(Buffer.alloc(UPLOAD_LIMIT + 1, 'a'), { token: ana.token, conversationId, fileName: 'big.txt' });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('attachment/too_large');
    // Far over the limit by its declared length: refused before the body is read.
    const wayTooBig = await upload(Buffer.alloc(UPLOAD_LIMIT * 200, 'a'), { token: ana.token, conversationId, fileName: 'huge.txt' });
    expect(wayTooBig.status).toBe(413);
    expect(wayTooBig.body.error.code).toBe('attachment/too_large');
    expect(await Attachment.countDocuments({})).toBe(before);
    expect((await readdir(join(charla.dataDir, 'uploads'))).filter((name) => name.startsWith('.'))).toEqual([]);
    const justFits = await upload(Buffer.alloc(UPLOAD_LIMIT, 'a'), { token: ana.token, conversationId, fileName: 'fits.txt' });
    expect(justFits.status).toBe(201);
  });

  it('serves a signed link without a token until it expires, and refuses a tampered one', async () => {
    const { ana, conversationId } = await scene();
    const uploaded = await upload(PNG, { token: ana.token, conversationId, fileName: 'signed.png' });
    await charla.mutate(SEND, { input: { conversationId, content: 'Transcript', attachmentIds: [uploaded.body.id] } }, ana.token);

    const url = await signedAttachmentUrl(charla.services, uploaded.body.id, 600);
    const signed = await fetch(url);
    expect(signed.status).toBe(200);
    expect(signed.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await signed.arrayBuffer())).toEqual(PNG);

    const signature = new URL(url).searchParams.get('signature')!;
    const tampered = url.replace(signature, (signature[0] === '0' ? '1' : '0') + signature.slice(1));
    expect((await fetch(tampered)).status).toBe(403);
    const laterExpiry = url.replace(/expires=(\d+)/, (_match, expires: string) => `expires=${Number(expires) + 3600}`);
    expect((await fetch(laterExpiry)).status).toBe(403);
    const expired = await signedAttachmentUrl({ ...charla.services, now: () => new Date(Date.now() - 3_600_000) }, uploaded.body.id, 60);
    expect((await fetch(expired)).status).toBe(403);
  });

  it('lets a visitor download files of messages they see in their conversation, never those of private notes', async () => {
    const { ana, inbox, visitor, conversationId } = await scene();
    const reply = await upload(PNG, { token: ana.token, conversationId, fileName: 'reply.png' });
    const note = await upload(PNG, { token: ana.token, conversationId, fileName: 'note.png' });
    await charla.mutate(SEND, { input: { conversationId, content: 'Para ti', attachmentIds: [reply.body.id] } }, ana.token);
    await charla.mutate(SEND, { input: { conversationId, content: 'Interno', private: true, attachmentIds: [note.body.id] } }, ana.token);

    expect((await download(reply.body.id, visitor.visitorToken)).status).toBe(200);
    expect((await download(note.body.id, visitor.visitorToken)).status).toBe(403);
    const otherVisitor = await buildContact(inbox);
    expect((await download(reply.body.id, otherVisitor.visitorToken)).status).toBe(403);
  });

  it("lets a visitor upload for their own message and the conversation's agents download it", async () => {
    const { bruno, visitor, olga } = await scene();
    const uploaded = await upload('hello from the visitor', { token: visitor.visitorToken, fileName: 'hello.txt' });
    expect(uploaded.status).toBe(201);
    expect((await download(uploaded.body.id, visitor.visitorToken)).status).toBe(200);
    expect((await download(uploaded.body.id, bruno.token)).status).toBe(403);

    await charla.mutate(`mutation($ids: [ID!]) { sendVisitorMessage(content: "Adjunto", attachmentIds: $ids) { id } }`, { ids: [uploaded.body.id] }, visitor.visitorToken);
    expect((await download(uploaded.body.id, bruno.token)).status).toBe(200);
    expect((await download(uploaded.body.id, olga.token)).status).toBe(403);
  });
});

describe('the upload limit setting', () => {
  it('is 40 MB unless UPLOAD_LIMIT_MB says otherwise', () => {
    expect(loadConfig({}).uploadLimitBytes).toBe(40 * 1024 * 1024);
    expect(loadConfig({ UPLOAD_LIMIT_MB: '' }).uploadLimitBytes).toBe(40 * 1024 * 1024);
    expect(loadConfig({ UPLOAD_LIMIT_MB: '5' }).uploadLimitBytes).toBe(5 * 1024 * 1024);
  });

  it('is documented with that default in the README configuration table', async () => {
    const readme = await readFile(join(import.meta.dirname, '../../../README.md'), 'utf8');
    expect(readme).toMatch(/^\| `UPLOAD_LIMIT_MB` \| `40` \|/m);
  });
});

// The visitor's half of the seed story in a real browser: a shop's page (its own origin) with the
// widget snippet, the launcher, the chat app in its iframe, live replies from an agent through the
// API, and what must never show (private notes, markup from a message, a widget on a page whose
// domain the inbox does not allow).
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identifierHash } from '../../server/src/auth/identity.ts';
import { Contact } from '../../server/src/db/models/contact.ts';
import { ContactInbox } from '../../server/src/db/models/contact-inbox.ts';
import { Conversation } from '../../server/src/db/models/conversation.ts';
import { CsatResponse } from '../../server/src/db/models/csat-response.ts';
import type { InboxDoc } from '../../server/src/db/models/inbox.ts';
import { launchBrowser } from '../support/browser.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../support/factories.ts';
import { snippetPage, startHostSite, startRelay, type HostSite, type Relay } from '../support/host-site.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { agentMessages, reply, say as sayThroughApi, setStatus } from '../server/widget/visitor-client.ts';

const GREETING = 'Hi there! We usually answer within minutes.';
const ONE_PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

let charla: TestCharla;
let smtp: SmtpSink;
let relay: Relay;
let site: HostSite;
let browser: Browser;
let ana: BuiltAgent;
let shopInbox: InboxDoc;
let spanishInbox: InboxDoc;
let campaignInbox: InboxDoc;
let formInbox: InboxDoc;
let historyInbox: InboxDoc;
let campaignId: string;

beforeAll(async () => {
  smtp = await startSmtpSink();
  // The story writes a returning visitor's history faster than a person types: no flood limit here.
  charla = await startTestCharla({ smtpUrl: smtp.url }, { VISITOR_MESSAGES_PER_MINUTE: '0' });
  // The browser reaches Charla through a relay the network-drop test can cut.
  relay = await startRelay(charla.url);
  site = await startHostSite();
  browser = await launchBrowser();

  const account = await buildAccount({ name: 'Tienda Sol' });
  ana = await buildAgent(account._id, { name: 'Ana García', availability: 'online' });
  shopInbox = await buildInbox(account._id, {
    name: 'Tienda Sol',
    memberIds: [ana.user._id],
    settings: {
      greeting: { enabled: true, text: GREETING },
      emailCollect: true,
      allowedDomains: ['shop.test'],
      widgetColor: '#0f766e',
      allowMessagesAfterResolved: false,
      csat: { enabled: true, display: 'emoji', message: '' },
    } as never,
  });
  spanishInbox = await buildInbox(account._id, {
    name: 'Tienda Luna',
    memberIds: [ana.user._id],
    settings: { locale: 'es', greeting: { enabled: true, text: '¡Hola! ¿En qué podemos ayudarte?' }, emailCollect: true, csat: { enabled: true, display: 'star', message: '' } } as never,
  });

  formInbox = await buildInbox(account._id, {
    name: 'Tienda Formulario',
    memberIds: [ana.user._id],
    settings: {
      greeting: { enabled: true, text: GREETING },
      preChatForm: {
        enabled: true,
        message: 'Tell us who you are.',
        fields: [
          { name: 'name', type: 'text', label: 'Your name', required: true },
          { name: 'email', type: 'email', label: 'Your e-mail', required: true },
          { name: 'orderCode', type: 'text', label: 'Order code', placeholder: 'ABC-123', regex: '^[A-Z]{3}-\\d{3}$' },
        ],
      },
    } as never,
  });
  historyInbox = await buildInbox(account._id, { name: 'Tienda Historia', memberIds: [ana.user._id] });
  const admin = await buildAgent(account._id, { role: 'administrator' });
  await charla.mutate(`mutation { createLabel(input: { title: "vip" }) { id } }`, {}, admin.token);
  campaignInbox = await buildInbox(account._id, { name: 'Tienda Campaña', memberIds: [ana.user._id], settings: { greeting: { enabled: true, text: GREETING } } as never });
  const saved = await charla.mutate(
    `mutation($inboxId: ID!, $json: JSON!) { saveCampaign(inboxId: $inboxId, json: $json) { id } }`,
    {
      inboxId: String(campaignInbox._id),
      json: { title: 'Offers', message: { en: 'Psst! Today shipping is free.' }, sender: { type: 'agent', agentId: String(ana.user._id) }, triggerRules: { url: '*/offers*', timeOnPage: 2 } },
    },
    admin.token,
  );
  campaignId = saved.saveCampaign.id;

  // Host CSS that would wreck a widget drawn into the page's own DOM.
  const hostileCss = '<style>button, iframe { display: none !important; } * { font-size: 40px !important; }</style>';
  site.page('/', snippetPage({ charlaUrl: relay.url, websiteToken: shopInbox.websiteToken!, head: hostileCss }));
  site.page('/history', snippetPage({ charlaUrl: relay.url, websiteToken: historyInbox.websiteToken! }));
  site.page('/form', snippetPage({ charlaUrl: relay.url, websiteToken: formInbox.websiteToken! }));
  site.page('/offers', snippetPage({ charlaUrl: relay.url, websiteToken: campaignInbox.websiteToken! }));
  site.page('/es', snippetPage({ charlaUrl: relay.url, websiteToken: spanishInbox.websiteToken! }));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await relay?.stop();
  await site?.stop();
  await stopAllTestCharlas();
  await smtp?.stop();
});

interface Visitor {
  context: BrowserContext;
  page: Page;
  chat: FrameLocator;
}

/** A fresh browser profile on `url`, recording the widget's DOM events. */
async function visit(url: string): Promise<Visitor> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(() => {
    // Runs in the page (the test's tsconfig has no DOM types, hence `any`).
    const page = globalThis as any;
    const seen: Array<{ name: string; detail: unknown }> = [];
    page.charlaEvents = seen;
    for (const name of ['ready', 'on-message', 'opened', 'closed', 'error']) {
      page.addEventListener(`charla:${name}`, (event: { detail?: unknown }) => seen.push({ name, detail: event.detail ?? null }));
    }
  });
  await page.goto(url);
  return { context, page, chat: page.frameLocator('charla-widget iframe') };
}

const charlaEvents = (page: Page): Promise<Array<{ name: string; detail: any }>> =>
  page.evaluate(() => (globalThis as any).charlaEvents);

async function waitForEvent(page: Page, name: string): Promise<void> {
  await page.waitForFunction((wanted) => (globalThis as any).charlaEvents.some((event: { name: string }) => event.name === wanted), name);
}

const launcher = (page: Page) => page.locator('charla-widget .launcher');

async function say(chat: FrameLocator, text: string): Promise<void> {
  const box = chat.getByRole('textbox', { name: /Type your message|Escribe tu mensaje/ });
  await box.fill(text);
  await box.press('Enter');
}

async function conversationOf(inbox: InboxDoc) {
  const conversation = await Conversation.findOne({ inboxId: inbox._id }).sort({ _id: -1 });
  expect(conversation).not.toBeNull();
  return conversation!;
}

describe('the web widget in a browser', () => {
  it('greets "Hola" live, captures the e-mail, shows agent replies but never notes or markup', async () => {
    const { page, chat, context } = await visit(`http://shop.test:${site.port}/`);
    await waitForEvent(page, 'ready');

    // The launcher survives the host's CSS (it lives in a shadow root) and wears the inbox colour.
    await launcher(page).waitFor({ state: 'visible' });
    expect(await launcher(page).evaluate((element) => (globalThis as any).getComputedStyle(element).backgroundColor)).toBe('rgb(15, 118, 110)');
    await launcher(page).click();
    await waitForEvent(page, 'opened');

    await chat.getByRole('heading', { name: 'Tienda Sol' }).waitFor();
    await chat.getByText('We are online').waitFor();
    await chat.getByText('Typically replies in a few minutes').waitFor();

    await say(chat, 'Hola');
    await chat.getByText(GREETING).waitFor();
    await chat.getByText('Give the team a way to reach you.').waitFor();
    await chat.getByText('Get notified by email').waitFor();
    // The visitor's message shows once: the optimistic copy gave way to the server's.
    expect(await chat.locator('.message.mine').count()).toBe(1);
    expect(await chat.locator('.message.sending').count()).toBe(0);

    // An invalid address is refused inline and stored nowhere; a valid one is accepted.
    const email = chat.getByRole('textbox', { name: 'E-mail address' });
    await email.fill('not-an-address');
    await chat.getByRole('button', { name: 'Submit' }).click();
    await chat.getByRole('alert').filter({ hasText: 'Please enter a valid e-mail address' }).waitFor();
    const conversation = await conversationOf(shopInbox);
    expect((await Contact.findById(conversation.contactId))?.email ?? null).toBeNull();
    // The conversation knows the page the visitor wrote from.
    expect((conversation.toObject() as any).additionalAttributes?.visitor).toMatchObject({ pageUrl: `http://shop.test:${site.port}/`, locale: 'en' });
    await email.fill('lucia@example.test');
    await chat.getByRole('button', { name: 'Submit' }).click();
    await chat.getByText('✓ lucia@example.test').waitFor();
    expect((await Contact.findById(conversation.contactId))?.email).toBe('lucia@example.test');

    // The agent types, then replies (Markdown), and writes a private note.
    await charla.mutate(`mutation($id: ID!) { toggleTyping(conversationId: $id, on: true) }`, { id: String(conversation._id) }, ana.token);
    await chat.getByText('Tienda Sol is typing…').or(chat.getByText('Ana García is typing…')).waitFor();
    await reply(charla, ana.token, String(conversation._id), 'Hola Lucía, **bienvenida**');
    await chat.locator('strong', { hasText: 'bienvenida' }).waitFor();
    // The inbox's only agent steps away and comes back: the header follows, live.
    await charla.mutate(`mutation { setAvailability(status: OFFLINE) { id } }`, {}, ana.token);
    await chat.getByText('We are away').waitFor();
    await charla.mutate(`mutation { setAvailability(status: ONLINE) { id } }`, {}, ana.token);
    await chat.getByText('We are online').waitFor();
    await chat.getByText(/is typing…/).waitFor({ state: 'detached' });
    await reply(charla, ana.token, String(conversation._id), 'SECRET internal note', true);
    await reply(charla, ana.token, String(conversation._id), '<script>window.pwned = 1</script><img src="x" onerror="window.pwned = 2">');
    await chat.getByText('<script>window.pwned = 1</script><img src="x" onerror="window.pwned = 2">').waitFor();
    // The note was sent before the payload, which is shown: had it reached the widget, it would be there.
    expect(await chat.getByText('SECRET internal note').count()).toBe(0);
    expect(await chat.locator('.messages img').count()).toBe(0);
    const frame = page.frames().find((candidate) => candidate.url().includes('/widget/app/'))!;
    expect(await frame.evaluate(() => (globalThis as any).pwned)).toBeUndefined();

    // Closed, the widget counts what arrives on the launcher's badge and tells the page.
    await chat.getByRole('button', { name: 'Close chat' }).click();
    await waitForEvent(page, 'closed');
    await reply(charla, ana.token, String(conversation._id), '¿Algo más?');
    await page.locator('charla-widget .badge', { hasText: '1' }).waitFor();
    // Screen readers hear it on the launcher's name.
    expect(await page.locator('charla-widget button.launcher').getAttribute('aria-label')).toMatch(/, 1 unread message$/);
    await page.waitForFunction(() =>
      (globalThis as any).charlaEvents.some((event: { name: string; detail: any }) => event.name === 'on-message' && event.detail?.content === '¿Algo más?'),
    );
    // The visitor token lives in the host page's storage, per website token.
    expect(await page.evaluate((token) => (globalThis as any).localStorage.getItem(`charla:${token}:visitorToken`), shopInbox.websiteToken!)).toMatch(/.+/);

    // A reload brings the same conversation back with its history.
    await page.reload();
    await waitForEvent(page, 'ready');
    await page.evaluate(() => (globalThis as any).$charla.toggle(true));
    await chat.getByText('Hola Lucía,').waitFor();
    await chat.getByText(GREETING).waitFor();
    expect(await chat.locator('.message.mine').count()).toBe(1);
    await context.close();
  });

  it('catches up on what the agent said while the network was down', async () => {
    const { page, chat, context } = await visit(`http://shop.test:${site.port}/`);
    await waitForEvent(page, 'ready');
    await page.evaluate(() => (globalThis as any).$charla.toggle('open'));
    await say(chat, 'Is anyone there?');
    await chat.getByText(GREETING).waitFor();
    const conversation = await conversationOf(shopInbox);

    await relay.cut();
    await chat.getByText('Reconnecting…').waitFor();
    await reply(charla, ana.token, String(conversation._id), 'Sent while you were offline');
    await relay.restore();
    await chat.getByText('Sent while you were offline').waitFor({ timeout: 20_000 });
    await chat.getByText('Reconnecting…').waitFor({ state: 'detached' });
    // And it is live again afterwards.
    await reply(charla, ana.token, String(conversation._id), 'Back online');
    await chat.getByText('Back online').waitFor();
    await context.close();
  }, 60_000);

  it('after resolution asks for a rating, sends the transcript and offers a new conversation', async () => {
    const { page, chat, context } = await visit(`http://shop.test:${site.port}/`);
    await waitForEvent(page, 'ready');
    await page.evaluate(() => (globalThis as any).$charla.toggle());
    await say(chat, 'Hola');
    const email = chat.getByRole('textbox', { name: 'E-mail address' });
    await email.fill('pablo@example.test');
    await chat.getByRole('button', { name: 'Submit' }).click();
    await chat.getByText('✓ pablo@example.test').waitFor();
    const conversation = await conversationOf(shopInbox);
    await reply(charla, ana.token, String(conversation._id), 'Your order ships today.');
    await chat.getByText('Your order ships today.').waitFor();

    await setStatus(charla, ana.token, String(conversation._id), 'RESOLVED');
    await chat.getByText('Please rate the conversation').waitFor();
    await chat.getByRole('button', { name: 'Very happy' }).click();
    await chat.getByRole('textbox', { name: 'Tell us more (optional)' }).fill('Quick and kind');
    await chat.getByRole('button', { name: 'Submit' }).click();
    await chat.getByText('Thank you for your feedback').waitFor();
    const rating = await CsatResponse.findOne({ conversationId: conversation._id });
    expect(rating).toMatchObject({ rating: 5, feedback: 'Quick and kind' });

    await chat.getByRole('button', { name: 'Request a conversation transcript' }).click();
    await chat.getByText('The transcript is on its way to your e-mail').waitFor();
    const mail = await smtp.waitFor((candidate) => candidate.to !== undefined && JSON.stringify(candidate.to).includes('pablo@example.test'));
    expect(mail.text).toContain('Your order ships today.');

    await chat.getByRole('button', { name: 'Start a new conversation' }).click();
    await say(chat, 'One more question');
    // A new conversation: the old one's messages leave the view, the new one is greeted.
    await chat.getByText('Your order ships today.').waitFor({ state: 'detached' });
    await chat.getByText(GREETING).waitFor();
    expect(await Conversation.countDocuments({ contactId: conversation.contactId })).toBe(2);
    await context.close();
  }, 60_000);

  it('asks for the pre-chat form first, checks it, and fills the contact with it', async () => {
    const { page, chat, context } = await visit(`http://shop.test:${site.port}/form`);
    await waitForEvent(page, 'ready');
    await launcher(page).click();
    await chat.getByText('Tell us who you are.').waitFor();
    expect(await chat.getByRole('textbox', { name: 'Type your message…' }).count()).toBe(0);

    await chat.getByRole('button', { name: 'Start conversation' }).click();
    expect(await chat.getByText('This field is required').count()).toBe(2);
    await chat.getByLabel('Your name').fill('Lucía Pérez');
    await chat.getByLabel('Your e-mail').fill('lucia@');
    await chat.getByLabel('Order code').fill('abc');
    await chat.getByRole('button', { name: 'Start conversation' }).click();
    await chat.getByText('Please check this field').first().waitFor();
    expect(await chat.getByText('Please check this field').count()).toBe(2);
    await chat.getByLabel('Your e-mail').fill('lucia.perez@example.test');
    await chat.getByLabel('Order code').fill('ABC-123');
    await chat.getByRole('button', { name: 'Start conversation' }).click();

    await say(chat, 'Hola');
    await chat.getByText(GREETING).waitFor();
    const conversation = await conversationOf(formInbox);
    expect(await Contact.findById(conversation.contactId)).toMatchObject({ name: 'Lucía Pérez', email: 'lucia.perez@example.test', customAttributes: { orderCode: 'ABC-123' } });
    await context.close();
  });

  it('shows a returning visitor 20 messages at a time, deletions live, and tells the agent it is typing', async () => {
    const { page, chat, context } = await visit(`http://shop.test:${site.port}/history`);
    await waitForEvent(page, 'ready');
    const visitorToken = await page.evaluate((token) => (globalThis as any).localStorage.getItem(`charla:${token}:visitorToken`), historyInbox.websiteToken!);
    for (let n = 1; n <= 45; n += 1) await sayThroughApi(charla, visitorToken, `Message ${n}`);
    await page.reload();
    await waitForEvent(page, 'ready');
    await launcher(page).click();

    await chat.getByText('Message 45', { exact: true }).waitFor();
    // Opening shows the latest messages at the bottom of the view.
    await expect.poll(() => chat.locator('.messages').evaluate((element: any) => element.scrollHeight - element.scrollTop - element.clientHeight)).toBeLessThan(2);
    expect(await chat.locator('.message').count()).toBe(20);
    expect(await chat.getByText('Message 25', { exact: true }).count()).toBe(0);
    // Scrolling up to the top loads the 20 before; the view stays where the visitor was.
    const scrollToTop = () => chat.locator('.messages').evaluate((element: any) => (element.scrollTop = 0));
    await scrollToTop();
    await chat.getByText('Message 6', { exact: true }).waitFor();
    expect(await chat.locator('.messages').evaluate((element: any) => element.scrollTop)).toBeGreaterThan(0);
    await scrollToTop();
    await chat.getByText('Message 1', { exact: true }).waitFor();
    await chat.getByRole('button', { name: 'Load earlier messages' }).waitFor({ state: 'detached' });
    expect(await chat.locator('.message').count()).toBe(45);

    // The agent deletes a reply: the visitor sees it replaced, live.
    const conversation = await conversationOf(historyInbox);
    const { id } = await reply(charla, ana.token, String(conversation._id), 'Oops, wrong customer');
    await chat.getByText('Oops, wrong customer').waitFor();
    await charla.mutate(`mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id }, ana.token);
    await chat.getByText('This message was deleted').waitFor();
    expect(await chat.getByText('Oops, wrong customer').count()).toBe(0);

    // Typing in the widget reaches the agent's console.
    const events = await charla.subscribe(`subscription { conversationEvents { type typing { on agent { id } } } }`, {}, ana.token);
    await chat.getByRole('textbox', { name: 'Type your message…' }).pressSequentially('Still th');
    await events.waitFor((result) => result.data?.conversationEvents.type === 'TYPING' && result.data.conversationEvents.typing.on === true && result.data.conversationEvents.typing.agent === null);
    await events.close();
    await context.close();
  }, 60_000);

  it('sends a picture with a preview and receives the agent’s file as a download', async () => {
    const { page, chat, context } = await visit(`http://shop.test:${site.port}/history`);
    await waitForEvent(page, 'ready');
    await launcher(page).click();
    await chat.locator('input[type=file]').setInputFiles({ name: 'receipt.png', mimeType: 'image/png', buffer: ONE_PIXEL_PNG });
    const preview = chat.locator('img[alt="receipt.png"]');
    await preview.waitFor();
    await expect.poll(() => preview.evaluate((image: any) => image.complete && image.naturalWidth)).toBe(1);
    const conversation = await conversationOf(historyInbox);
    const stored = await charla.mutate(
      `query($id: ID!) { conversation(id: $id) { messages(first: 10) { edges { node { messageType attachments { fileName contentType } } } } } }`,
      { id: String(conversation._id) },
      ana.token,
    );
    expect(stored.conversation.messages.edges.map((edge: any) => edge.node)).toContainEqual({ messageType: 'INCOMING', attachments: [{ fileName: 'receipt.png', contentType: 'image/png' }] });

    const upload = await charla.upload('%PDF-1.4\n%charla test\n', { token: ana.token, conversationId: String(conversation._id), fileName: 'invoice.pdf', claimedType: 'application/pdf' });
    expect(upload.status).toBe(201);
    await charla.mutate(
      `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
      { input: { conversationId: String(conversation._id), content: 'Here is your invoice', attachmentIds: [upload.body.id] } },
      ana.token,
    );
    const link = chat.locator('a[download="invoice.pdf"]');
    await link.waitFor();
    expect(await link.getAttribute('href')).toMatch(/^blob:/);
    await context.close();
  });

  it('speaks Spanish for a Spanish inbox', async () => {
    const { page, chat, context } = await visit(`http://shop.test:${site.port}/es`);
    await waitForEvent(page, 'ready');
    await launcher(page).click();
    await chat.getByRole('textbox', { name: 'Escribe tu mensaje…' }).waitFor();
    await chat.getByText('Estamos en línea').waitFor();
    await chat.getByText('Normalmente responde en unos minutos').waitFor();
    await say(chat, 'Hola');
    await chat.getByText('¡Hola! ¿En qué podemos ayudarte?').waitFor();
    await chat.getByText('Dale al equipo una forma de llegar a ti.').waitFor();
    await chat.getByText('Recibir notificaciones por correo electrónico').waitFor();
    await chat.getByRole('textbox', { name: 'Correo electrónico' }).fill('nada');
    await chat.getByRole('button', { name: 'Enviar' }).first().click();
    await chat.getByText('Introduce un correo electrónico válido').waitFor();

    // Emoji from the palette land where the cursor is; Escape closes the palette, not the chat.
    const box = chat.getByRole('textbox', { name: 'Escribe tu mensaje…' });
    await box.fill('Gracias ');
    await chat.getByRole('button', { name: 'Insertar emoji' }).click();
    await chat.getByRole('button', { name: '👍' }).click();
    expect(await box.inputValue()).toBe('Gracias 👍');
    await chat.getByRole('button', { name: 'Insertar emoji' }).click();
    await chat.getByRole('button', { name: '🎉' }).press('Escape');
    await chat.getByRole('button', { name: '🎉' }).waitFor({ state: 'detached' });
    expect(await page.evaluate(() => (globalThis as any).$charla.isOpen)).toBe(true);

    // Resolved: the survey in Spanish, as stars; four of five is stored as 4.
    const conversation = await conversationOf(spanishInbox);
    await setStatus(charla, ana.token, String(conversation._id), 'RESOLVED');
    await chat.getByText('Por favor, valora la conversación').waitFor();
    await chat.getByRole('button', { name: 'Satisfecho', exact: true }).click();
    await chat.getByRole('textbox', { name: 'Cuéntanos más (opcional)' }).waitFor();
    expect(await chat.locator('.choice.chosen').count()).toBe(4);
    expect(await CsatResponse.findOne({ conversationId: conversation._id })).toMatchObject({ rating: 4 });
    await context.close();
  });

  it('answers to window.$charla: language, launcher, user, reset, custom attributes and labels', async () => {
    const { page, chat, context } = await visit(`http://shop.test:${site.port}/`);
    await waitForEvent(page, 'ready');
    const storedToken = () => page.evaluate((token) => (globalThis as any).localStorage.getItem(`charla:${token}:visitorToken`), shopInbox.websiteToken!);
    await page.evaluate(() => (globalThis as any).$charla.toggle(true));
    expect(await page.evaluate(() => (globalThis as any).$charla.isOpen)).toBe(true);
    await chat.getByRole('textbox', { name: 'Type your message…' }).waitFor();
    await page.evaluate(() => (globalThis as any).$charla.setLocale('es'));
    await chat.getByRole('textbox', { name: 'Escribe tu mensaje…' }).waitFor();
    await chat.getByText('Estamos en línea').waitFor();

    await page.evaluate(() => (globalThis as any).$charla.toggle('close'));
    await page.evaluate(() => (globalThis as any).$charla.toggleBubbleVisibility('hide'));
    await launcher(page).waitFor({ state: 'hidden' });
    await page.evaluate(() => (globalThis as any).$charla.toggleBubbleVisibility('show'));
    await launcher(page).waitFor({ state: 'visible' });

    const anonymous = await storedToken();
    // The site signs its user's id with the inbox's secret, as its server would.
    const hash = identifierHash('customer-42', shopInbox.hmacSecret!);
    await page.evaluate((signed) => (globalThis as any).$charla.setUser('customer-42', { email: 'carmen@example.test', name: 'Carmen Ruiz', identifierHash: signed }), hash);
    const identified = await Contact.findOne({ accountId: shopInbox.accountId, identifier: 'customer-42' });
    expect(identified).toMatchObject({ email: 'carmen@example.test', name: 'Carmen Ruiz' });

    await page.evaluate(() => (globalThis as any).$charla.reset());
    const afterReset = await storedToken();
    expect(afterReset).toMatch(/.+/);
    expect(afterReset).not.toBe(anonymous);
    await page.evaluate(() => (globalThis as any).$charla.toggle(true));
    await say(chat, 'Soy otra persona');
    await chat.getByText(GREETING).waitFor();
    const latest = await conversationOf(shopInbox);
    expect(latest.contactId.equals(identified!._id)).toBe(false);

    // Custom attributes land on the contact, labels on the conversation; a refused call is heard.
    await page.evaluate(() => (globalThis as any).$charla.setCustomAttributes({ plan: 'pro', seats: 3 }));
    await page.evaluate(() => (globalThis as any).$charla.deleteCustomAttribute('seats'));
    expect((await Contact.findById(latest.contactId).lean())?.customAttributes).toEqual({ plan: 'pro' });
    await page.evaluate(() => (globalThis as any).$charla.setLabel('vip'));
    expect((await Conversation.findById(latest._id).lean())?.labels).toEqual(['vip']);
    await page.evaluate(() => (globalThis as any).$charla.removeLabel('vip'));
    expect((await Conversation.findById(latest._id).lean())?.labels).toEqual([]);
    await page.evaluate(() => (globalThis as any).$charla.setLabel('no-such-label'));
    await page.waitForFunction(() => (globalThis as any).charlaEvents.some((event: { name: string; detail: any }) => event.name === 'error' && event.detail?.code === 'label/not_found'));
    await context.close();
  });

  it('shows a campaign above the launcher after its time on page; closing snoozes it, answering starts with it', async () => {
    const first = await visit(`http://shop.test:${site.port}/offers`);
    const bubble = first.page.locator('charla-widget .campaign');
    await bubble.getByText('Psst! Today shipping is free.').waitFor();
    // Not before its time on page (2 s): the loader asked again when the server said so.
    expect(await first.page.evaluate(() => (globalThis as any).performance.now())).toBeGreaterThanOrEqual(2_000);
    await bubble.getByText('Ana García').waitFor();
    await bubble.getByRole('button', { name: 'Close' }).click();
    await bubble.waitFor({ state: 'hidden' });
    await expect.poll(async () => (await ContactInbox.findOne({ inboxId: campaignInbox._id }))?.campaignsSnoozedUntil?.getTime() ?? 0).toBeGreaterThan(Date.now() + 50 * 60_000);
    await first.context.close();

    const second = await visit(`http://shop.test:${site.port}/offers`);
    await second.page.locator('charla-widget .campaign-open').click();
    await second.chat.getByText('Psst! Today shipping is free.').waitFor();
    await say(second.chat, 'Is it free for Canarias too?');
    await second.chat.locator('.message.mine').filter({ hasText: 'Is it free for Canarias too?' }).waitFor();
    await expect.poll(async () => {
      const conversation = await Conversation.findOne({ inboxId: campaignInbox._id, campaignId });
      return conversation ? (await agentMessages(charla, ana.token, String(conversation._id))).map((message) => message.content) : [];
    }).toEqual(['Psst! Today shipping is free.', 'Is it free for Canarias too?']);
    // The campaign's message, now stored, shows once.
    // (Polled: the list re-renders when the stored message replaces the offered one.)
    await expect.poll(() => second.chat.getByText('Psst! Today shipping is free.').count()).toBe(1);
    await second.context.close();
  });

  it('fills a phone screen, and Escape in the chat gives the focus back to the launcher', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`http://shop.test:${site.port}/es`);
    await launcher(page).click();
    const chat = page.frameLocator('charla-widget iframe');
    await chat.getByRole('textbox', { name: 'Escribe tu mensaje…' }).waitFor();
    expect(await page.locator('charla-widget .frame').boundingBox()).toEqual({ x: 0, y: 0, width: 375, height: 667 });
    // The chat's own close button stands in for the launcher it covers.
    await chat.getByRole('textbox', { name: 'Escribe tu mensaje…' }).press('Escape');
    await launcher(page).waitFor({ state: 'visible' });
    expect(await page.evaluate(() => (globalThis as any).document.querySelector('charla-widget').shadowRoot.activeElement?.className)).toBe('launcher');
    await context.close();
  });

  it('ignores protocol messages from anyone but the app and its host page', async () => {
    site.page('/forger', '<!doctype html><html><body>forger</body></html>');
    const { page, chat, context } = await visit(`http://shop.test:${site.port}/`);
    await waitForEvent(page, 'ready');
    await launcher(page).click();
    await chat.getByRole('heading', { name: 'Tienda Sol' }).waitFor();

    // A frame of another site on the same page forges messages both ways.
    const framed = page.waitForEvent('framenavigated', (frame) => frame.url().includes('/forger'));
    await page.evaluate((src) => {
      const iframe = (globalThis as any).document.createElement('iframe');
      iframe.src = src;
      (globalThis as any).document.body.append(iframe);
    }, `http://elsewhere.test:${site.port}/forger`);
    const forger = await framed;
    await forger.waitForLoadState();
    await forger.evaluate(() => {
      const top = (globalThis as any).parent;
      const fake = { visitorToken: 'forged', contact: { id: 'x', name: '', email: null, phone: null }, conversation: null, config: { inboxName: 'Forged inbox', locale: 'EN', widgetColor: '#000', replyTime: 'in_a_day', agentsOnline: false, allowMessagesAfterResolved: true, csat: { enabled: false, display: 'emoji', message: '' }, preChatForm: { enabled: false, message: '', fields: [] } } };
      for (let index = 0; index < top.frames.length; index += 1) top.frames[index].postMessage({ type: 'charla:session', session: fake, locale: 'en', page: null }, '*');
      top.postMessage({ type: 'charla:close' }, '*');
    });
    // The host page itself posting "as the app" counts no more than the forger.
    await page.evaluate(() => (globalThis as any).postMessage({ type: 'charla:close' }, '*'));

    // A genuine message after the forged ones: once it has arrived, so have they.
    await page.evaluate(() => (globalThis as any).$charla.setLocale('es'));
    await chat.getByRole('textbox', { name: 'Escribe tu mensaje…' }).waitFor();
    expect(await chat.getByRole('heading', { name: 'Tienda Sol' }).count()).toBe(1);
    expect(await page.evaluate(() => (globalThis as any).$charla.isOpen)).toBe(true);
    await context.close();
  });

  it('draws nothing on a page whose domain the inbox does not allow, nor when Charla does not answer', async () => {
    site.page('/elsewhere', snippetPage({ charlaUrl: relay.url, websiteToken: shopInbox.websiteToken! }));
    const { page, context } = await visit(`http://elsewhere.test:${site.port}/elsewhere`);
    await waitForEvent(page, 'error');
    const events = await charlaEvents(page);
    expect(events).toEqual([{ name: 'error', detail: { code: 'widget/origin_not_allowed' } }]);

    // Nor when the loader gets no answer from Charla (here: a copy of it on a server with no API).
    site.page('/no-charla/widget/sdk.js', readFileSync(new URL('../../widget/dist/sdk.js', import.meta.url), 'utf8'), 'text/javascript');
    site.page('/unreachable', snippetPage({ charlaUrl: `http://shop.test:${site.port}/no-charla`, websiteToken: shopInbox.websiteToken! }));
    const offline = await visit(`http://shop.test:${site.port}/unreachable`);
    await waitForEvent(offline.page, 'error');
    expect(await charlaEvents(offline.page)).toEqual([{ name: 'error', detail: { code: 'widget/unreachable' } }]);
    expect(await offline.page.locator('charla-widget').count()).toBe(0);
    await offline.context.close();
    expect(await page.locator('charla-widget').count()).toBe(0);

    // Framing the app directly does not help: the app page's frame-ancestors refuses this site.
    const framed = page.waitForEvent('framenavigated', (frame) => frame !== page.mainFrame());
    await page.evaluate((src) => {
      const iframe = (globalThis as any).document.createElement('iframe');
      iframe.src = src;
      (globalThis as any).document.body.append(iframe);
    }, `${relay.url}/widget/app/?website_token=${shopInbox.websiteToken}&host_origin=${encodeURIComponent(`http://elsewhere.test:${site.port}`)}`);
    const frame = await framed;
    await frame.waitForLoadState();
    expect(await frame.locator('#app').count()).toBe(0);
    await context.close();
  });
});

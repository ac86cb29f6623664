// The agent's half of the seed story in a real browser: sign in, a visitor's "Hola" arriving live
// in Unassigned, assigning to self, a reply the visitor receives, a private note they never do,
// resolving; markup from a message shown as text; Spanish labels; a reload keeping session and draft.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxDoc } from '../../server/src/db/models/inbox.ts';
import { launchBrowser } from '../support/browser.ts';
import { startRelay } from '../support/host-site.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox, buildTeam, type BuiltAgent } from '../support/factories.ts';
import { openWidget, say, WIDGET_EVENTS } from '../server/widget/visitor-client.ts';

// Screenshots of the main screens, for a person to look at (not committed).
const SCREENSHOTS = process.env.SCREENSHOT_DIR ?? join(tmpdir(), 'charla-console-screenshots');

let charla: TestCharla;
let smtp: SmtpSink;
let browser: Browser;
let ana: BuiltAgent;
let lucas: BuiltAgent;
let admin: BuiltAgent;
let inbox: InboxDoc;

beforeAll(async () => {
  smtp = await startSmtpSink();
  charla = await startTestCharla({ smtpUrl: smtp.url });
  browser = await launchBrowser();
  mkdirSync(SCREENSHOTS, { recursive: true });
  const account = await buildAccount({ name: 'Tienda Sol' });
  ana = await buildAgent(account._id, { name: 'Ana García', email: 'ana@tienda.test', password: 'ana secret password' });
  lucas = await buildAgent(account._id, { name: 'Lucas Pérez', email: 'lucas@tienda.test', password: 'lucas secret password', locale: 'es' });
  inbox = await buildInbox(account._id, { name: 'Tienda Sol web', memberIds: [ana.user._id, lucas.user._id] });
  await buildTeam(account._id, { name: 'Ventas', memberIds: [ana.user._id] });
  admin = await buildAgent(account._id, { role: 'administrator', name: 'Carmen Admin', email: 'carmen@tienda.test', password: 'carmen secret password' });
  await charla.mutate(`mutation { createLabel(input: { title: "pedido", color: "#e11d48" }) { title } }`, {}, admin.token);
  await charla.mutate(`mutation { createCannedResponse(input: { shortCode: "envio", content: "Los envíos tardan 48 horas." }) { id } }`, {}, admin.token);
  await charla.mutate(`mutation { createCannedResponse(input: { shortCode: "gracias", content: "¡Gracias por escribirnos!" }) { id } }`, {}, admin.token);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stopAllTestCharlas();
  await smtp?.stop();
});

interface Console {
  context: BrowserContext;
  page: Page;
  /** Messages the page logged as errors (CSP violations included). */
  errors: string[];
}

async function openConsole(locale = 'en-US', base = charla.url): Promise<Console> {
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${base}/`);
  return { context, page, errors };
}

async function signIn(page: Page, agent: BuiltAgent, labels = { email: 'E-mail', password: 'Password', submit: 'Sign in' }): Promise<void> {
  await page.getByLabel(labels.email).fill(agent.user.email);
  await page.getByLabel(labels.password).fill(agent.password);
  await page.getByRole('button', { name: labels.submit }).click();
}

const composer = (page: Page) => page.locator('textarea[name="message"]');
const tab = (page: Page, name: string) => page.locator(`[data-tab="${name}"]`);

/** Visitor messages as the visitor's own API returns them (what their widget can ever show). */
async function visitorSees(visitorToken: string): Promise<string[]> {
  const data = await charla.mutate(`{ visitorMessages(first: 100) { edges { node { content } } } }`, {}, visitorToken);
  return data.visitorMessages.edges.map((edge: { node: { content: string } }) => edge.node.content);
}

/** The list entry of the conversation a visitor is in (visitors here are anonymous: no names). */
async function listItemOf(page: Page, visitorToken: string) {
  const { visitorConversation } = await charla.mutate(`{ visitorConversation { id } }`, {}, visitorToken);
  const { conversation } = await charla.mutate(`query($id: ID!) { conversation(id: $id) { displayId } }`, { id: visitorConversation.id }, ana.token);
  return page.locator(`[data-conversation="${conversation.displayId}"]`);
}

describe('the agent console in a browser', { timeout: 60_000 }, () => {
  it('refuses a wrong password with a readable error', async () => {
    const { page, context } = await openConsole();
    await page.waitForURL(/\/app\/login/);
    await page.getByLabel('E-mail').fill(ana.user.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'The e-mail or password is wrong' }).waitFor();
    await context.close();
  });

  it('takes a visitor from a live "Hola" in Unassigned through assignment, reply, private note and resolution', async () => {
    const { page, context, errors } = await openConsole();
    await page.waitForURL(/\/app\/login/);
    await page.screenshot({ path: join(SCREENSHOTS, 'sign-in.png') });
    await signIn(page, ana);
    await page.waitForURL(/\/app\/conversations$/);
    await page.getByRole('heading', { name: 'All conversations' }).waitFor();
    await tab(page, 'UNASSIGNED').click();
    await expect.poll(() => tab(page, 'UNASSIGNED').textContent()).toMatch(/Unassigned\s*0/);

    // A visitor writes; the conversation appears live, and the tab's count follows.
    const visitor = await openWidget(charla, inbox.websiteToken!);
    const widgetEvents = await charla.subscribe(WIDGET_EVENTS, {}, visitor.visitorToken);
    await say(charla, visitor.visitorToken, 'Hola');
    const item = await listItemOf(page, visitor.visitorToken);
    await item.waitFor();
    await expect.poll(() => tab(page, 'UNASSIGNED').textContent()).toMatch(/Unassigned\s*1/);
    await item.locator('[data-unread]').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'conversation-list.png') });

    await item.click();
    await page.waitForURL(/\/app\/conversations\/\d+$/);
    await page.locator('[data-kind="incoming"]').filter({ hasText: 'Hola' }).waitFor();
    await item.locator('[data-unread]').waitFor({ state: 'detached' });

    // Assign to self: the activity line appears, the conversation leaves Unassigned.
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await page.locator('[data-kind="activity"]').filter({ hasText: 'Ana García self-assigned this conversation' }).waitFor();
    await expect.poll(() => page.locator('select[name="assignee"]').inputValue()).toBe(String(ana.user._id));
    await item.waitFor({ state: 'detached' });
    await expect.poll(() => tab(page, 'MINE').textContent()).toMatch(/Mine\s*1/);

    // A label and a team from the right panel, each with its activity line.
    await page.getByLabel('Add labels').selectOption('pedido');
    await page.locator('[data-label="pedido"]').waitFor();
    await page.locator('[data-kind="activity"]').filter({ hasText: 'Ana García added pedido' }).waitFor();
    await page.locator('select[name="team"]').selectOption({ label: 'Ventas' });
    await expect.poll(() => page.locator('select[name="team"] option:checked').textContent()).toBe('Ventas');

    // A reply: Shift+Enter makes a new line, Enter sends; the visitor receives it.
    await composer(page).click();
    await composer(page).pressSequentially('Hola, **bienvenida**');
    await composer(page).press('Shift+Enter');
    await composer(page).pressSequentially('¿En qué te ayudo?');
    await composer(page).press('Enter');
    const outgoing = page.locator('[data-kind="outgoing"]').filter({ hasText: '¿En qué te ayudo?' });
    await outgoing.locator('strong', { hasText: 'bienvenida' }).waitFor();
    expect(await outgoing.locator('[data-content] br').count()).toBe(1);
    expect(await composer(page).inputValue()).toBe('');
    await widgetEvents.waitFor((result) => result.data?.widgetEvents?.message?.content === 'Hola, **bienvenida**\n¿En qué te ayudo?');

    // A private note: shown with a lock, never reaching the visitor.
    await page.getByRole('tab', { name: 'Private note' }).click();
    await page.getByRole('button', { name: 'Add note' }).waitFor();
    await composer(page).fill('SECRET: check the order first');
    await composer(page).press('Enter');
    const note = page.locator('[data-kind="note"]').filter({ hasText: 'SECRET: check the order first' });
    await note.locator('[data-lock]').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'conversation.png') });

    // Markup in a message is text, never a tag or a script.
    const payload = '<script>window.pwned = 1</script><img src="x" onerror="window.pwned = 2">';
    await say(charla, visitor.visitorToken, payload);
    const hostile = page.locator('[data-kind="incoming"]').filter({ hasText: payload });
    await hostile.waitFor();
    expect(await hostile.locator('img, script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as any).pwned)).toBeUndefined();

    // A message deleted elsewhere turns into a tombstone live; attachments show as links.
    const conversationId = (await charla.mutate(`{ visitorConversation { id } }`, {}, visitor.visitorToken)).visitorConversation.id;
    const mistake = await charla.mutate(
      `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
      { input: { conversationId, content: 'Sent to the wrong customer' } },
      ana.token,
    );
    const wrong = page.locator('[data-kind="outgoing"]').filter({ hasText: 'Sent to the wrong customer' });
    await wrong.waitFor();
    await charla.mutate(`mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: mistake.sendMessage.id }, ana.token);
    await wrong.waitFor({ state: 'detached' });
    await page.locator(`[data-message="${mistake.sendMessage.id}"] [data-deleted]`).filter({ hasText: 'This message was deleted' }).waitFor();
    const upload = await charla.upload('order list', { token: ana.token, conversationId, fileName: 'pedido.txt', claimedType: 'text/plain' });
    expect(upload.status).toBe(201);
    await charla.mutate(
      `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
      { input: { conversationId, content: 'Here is your order', attachmentIds: [upload.body.id] } },
      ana.token,
    );
    const attachment = page.locator('[data-kind="outgoing"] [data-attachment]').filter({ hasText: 'pedido.txt' });
    await attachment.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), attachment.click()]);
    expect(download.suggestedFilename()).toBe('pedido.txt');

    // Resolve (the green button): the status and its activity line follow.
    await page.locator('[data-action="resolve"]').click();
    await page.locator('[data-kind="activity"]').filter({ hasText: 'Conversation was marked resolved by Ana García' }).waitFor();
    await expect.poll(() => page.locator('[data-status]').textContent()).toBe('Resolved');
    await page.locator('[data-action="reopen"]').waitFor();

    const seen = await visitorSees(visitor.visitorToken);
    expect(seen).toContain('Hola, **bienvenida**\n¿En qué te ayudo?');
    expect(seen.some((content) => content.includes('SECRET'))).toBe(false);
    expect(widgetEvents.results.some((result) => JSON.stringify(result).includes('SECRET'))).toBe(false);
    expect(errors).toEqual([]);
    await widgetEvents.close();
    await context.close();
  });

  it('keeps the session and a half-written reply across a reload, and snoozes from the menu', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola otra vez');
    const { page, context } = await openConsole();
    await page.waitForURL(/\/app\/login/);
    await signIn(page, ana);
    await page.waitForURL(/\/app\/conversations$/);
    await tab(page, 'ALL').click();
    await (await listItemOf(page, visitor.visitorToken)).click();
    await page.locator('[data-kind="incoming"]').filter({ hasText: 'Hola otra vez' }).waitFor();
    const url = page.url();
    // A second conversation, looked at once.
    const other = await openWidget(charla, inbox.websiteToken!);
    await say(charla, other.visitorToken, 'Primera pregunta');
    await (await listItemOf(page, other.visitorToken)).click();
    await page.locator('[data-kind="incoming"]').filter({ hasText: 'Primera pregunta' }).waitFor();
    await page.goto(url);
    await page.locator('[data-kind="incoming"]').filter({ hasText: 'Hola otra vez' }).waitFor();
    await tab(page, 'ALL').click();

    await composer(page).fill('Half a thought');
    await page.getByRole('tab', { name: 'Private note' }).click();
    await composer(page).fill('A note in progress');
    await page.reload();
    await page.locator('[data-kind="incoming"]').filter({ hasText: 'Hola otra vez' }).waitFor();
    expect(page.url()).toBe(url);
    expect(await composer(page).inputValue()).toBe('A note in progress');
    await page.getByRole('tab', { name: 'Reply' }).click();
    expect(await composer(page).inputValue()).toBe('Half a thought');

    // A conversation the agent has looked at shows as unread after a reload once it moved on.
    await tab(page, 'ALL').click();
    await say(charla, other.visitorToken, 'Y otra cosa');
    const otherItem = await listItemOf(page, other.visitorToken);
    await otherItem.locator('[data-unread]').waitFor();
    await page.reload();
    // The tab chosen stays chosen.
    await expect.poll(() => tab(page, 'ALL').getAttribute('aria-selected')).toBe('true');
    await otherItem.locator('[data-unread]').waitFor();
    expect(await (await listItemOf(page, visitor.visitorToken)).locator('[data-unread]').count()).toBe(0);

    // Navigating away and back keeps it too.
    await tab(page, 'ALL').click();
    await page.goto(`${charla.url}/app/conversations`);
    await page.goto(url);
    await page.locator('[data-kind="incoming"]').filter({ hasText: 'Hola otra vez' }).waitFor();
    expect(await composer(page).inputValue()).toBe('Half a thought');

    await page.locator('[data-action="more"]').click();
    await page.getByRole('menuitem', { name: 'Until tomorrow' }).click();
    await expect.poll(() => page.locator('[data-status]').textContent()).toBe('Snoozed');
    await page.getByText(/Snoozed until/).waitFor();
    // The visitor writes: the conversation reopens, live.
    await say(charla, visitor.visitorToken, '¿Sigues ahí?');
    await page.locator('[data-kind="incoming"]').filter({ hasText: '¿Sigues ahí?' }).waitFor();
    await expect.poll(() => page.locator('[data-status]').textContent()).toBe('Open');

    // A session ended elsewhere (the token revoked) returns to sign-in at the next request — or
    // sooner, when the refused live connection makes the console check — and signing in again
    // comes back to the conversation.
    const stored = await page.evaluate(() => (globalThis as any).localStorage.getItem('charla.console.token'));
    await charla.mutate('mutation { logout }', {}, stored);
    const backToSignIn = page.waitForURL(/\/app\/login\?next=/);
    await Promise.race([backToSignIn, page.locator('[data-action="mute"]').click().then(() => backToSignIn)]);
    await signIn(page, ana);
    await page.waitForURL(url);

    // Signing out ends the session: the stored token is gone and the login page shows.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/app\/login/);
    expect(await page.evaluate(() => (globalThis as any).localStorage.getItem('charla.console.token'))).toBeNull();
    await page.goto(url);
    await page.waitForURL(/\/app\/login/);
    await context.close();
  });

  it('copies and deletes messages from their menu, mutes, and mails a transcript', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Quiero mi factura');
    const { page, context } = await openConsole();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: charla.url });
    await page.waitForURL(/\/app\/login/);
    await signIn(page, ana);
    await tab(page, 'ALL').click();
    await (await listItemOf(page, visitor.visitorToken)).click();
    const incoming = page.locator('[data-kind="incoming"]').filter({ hasText: 'Quiero mi factura' });
    await incoming.waitFor();

    // The contact's message can be copied, not deleted.
    await incoming.locator('[data-message-menu]').click();
    await expect.poll(() => incoming.getByRole('menuitem').allTextContents()).toEqual(['Copy']);
    await incoming.getByRole('menuitem', { name: 'Copy' }).click();
    await page.locator('[data-toast]').filter({ hasText: 'Copied to the clipboard' }).waitFor();
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe('Quiero mi factura');

    // The agent's own reply: Delete asks first, then leaves a tombstone the visitor sees too.
    await composer(page).fill('Te la envío a otro cliente');
    await composer(page).press('Enter');
    const reply = page.locator('[data-kind="outgoing"]').filter({ hasText: 'Te la envío a otro cliente' });
    await reply.waitFor();
    const replyId = await reply.getAttribute('data-message');
    await reply.locator('[data-message-menu]').click();
    await reply.getByRole('menuitem', { name: 'Delete' }).click();
    await reply.getByText('Delete this message?').waitFor();
    await reply.locator('[data-confirm-delete]').click();
    await page.locator(`[data-message="${replyId}"] [data-deleted]`).waitFor();
    const seen = await visitorSees(visitor.visitorToken);
    expect(seen).not.toContain('Te la envío a otro cliente');

    // Send transcript: to another address; the mail arrives and a toast confirms it.
    await page.locator('[data-action="transcript"]').click();
    const dialog = page.getByRole('dialog', { name: 'Send the chat transcript' });
    await dialog.getByLabel('To another address').first().check();
    await dialog.locator('input[name="email"]').fill('boss@tienda.test');
    await dialog.getByRole('button', { name: 'Send' }).click();
    await page.locator('[data-toast]').filter({ hasText: 'The chat transcript was sent successfully' }).waitFor();
    const mail = await smtp.waitFor((message) => JSON.stringify(message.to).includes('boss@tienda.test'));
    expect(mail.text).toContain('Quiero mi factura');
    await dialog.waitFor({ state: 'detached' });

    // Mute: the conversation is resolved and silent until unmuted.
    await page.locator('[data-action="mute"]').click();
    await page.locator('[data-kind="activity"]').filter({ hasText: 'Ana García has muted the conversation' }).waitFor();
    await expect.poll(() => page.locator('[data-status]').textContent()).toBe('Resolved');
    await expect.poll(() => page.locator('[data-action="mute"]').textContent()).toBe('Unmute conversation');
    await page.locator('[data-action="mute"]').click();
    await expect.poll(() => page.locator('[data-action="mute"]').textContent()).toBe('Mute conversation');
    await context.close();
  });

  it('composes a reply from a canned response, bold text, an emoji and an attachment, and shows the visitor typing', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, '¿Cuándo llega mi pedido?');
    const { page, context } = await openConsole();
    await page.waitForURL(/\/app\/login/);
    await signIn(page, ana);
    await tab(page, 'ALL').click();
    await (await listItemOf(page, visitor.visitorToken)).click();
    await page.locator('[data-kind="incoming"]').filter({ hasText: '¿Cuándo llega' }).waitFor();

    // The visitor types: the console says so; their message ends it.
    await charla.mutate('mutation { visitorTyping(on: true) }', {}, visitor.visitorToken);
    await page.locator('[data-typing]').filter({ hasText: 'Visitor is typing…' }).waitFor();
    await charla.mutate('mutation { visitorTyping(on: false) }', {}, visitor.visitorToken);
    await expect.poll(() => page.locator('[data-typing]').textContent()).toBe('');

    // "/" lists canned responses by short code; Enter inserts the chosen one's content.
    await composer(page).click();
    await composer(page).pressSequentially('/env');
    await page.locator('[data-suggestion="/envio"]').waitFor();
    await composer(page).press('Enter');
    expect(await composer(page).inputValue()).toBe('Los envíos tardan 48 horas.');

    // Toolbar: bold around a selection, an emoji at the caret.
    await composer(page).press('End');
    await composer(page).pressSequentially(' Gracias');
    await composer(page).evaluate((element: any) => element.setSelectionRange(element.value.length - 'Gracias'.length, element.value.length));
    await page.getByRole('button', { name: 'Bold' }).click();
    await page.getByRole('button', { name: 'Emoji' }).click();
    await page.locator('[data-emoji="🙌"]').click();
    expect(await composer(page).inputValue()).toBe('Los envíos tardan 48 horas. **Gracias**🙌');

    // An attachment: uploaded with progress, sent with the reply, received by the visitor.
    await page.locator('input[name="files"]').setInputFiles({ name: 'factura.txt', mimeType: 'text/plain', buffer: Buffer.from('Factura 2024-17') });
    await page.locator('[data-upload="factura.txt"][data-uploaded="yes"]').waitFor();
    await composer(page).press('Enter');
    const sent = page.locator('[data-kind="outgoing"]').filter({ hasText: 'Los envíos tardan 48 horas.' });
    await sent.locator('strong', { hasText: 'Gracias' }).waitFor();
    await sent.locator('[data-attachment]').filter({ hasText: 'factura.txt' }).waitFor();
    await page.locator('[data-upload]').waitFor({ state: 'detached' });
    const data = await charla.mutate(`{ visitorMessages(first: 50) { edges { node { content attachments { fileName } } } } }`, {}, visitor.visitorToken);
    const received = data.visitorMessages.edges.map((edge: any) => edge.node).find((node: any) => node.content.startsWith('Los envíos'));
    expect(received).toMatchObject({ content: 'Los envíos tardan 48 horas. **Gracias**🙌', attachments: [{ fileName: 'factura.txt' }] });

    // A file dropped on the composer is uploaded too (and can be taken off again).
    await page.locator('form.composer').evaluate((form: any) => {
      const page = globalThis as any;
      const data = new page.DataTransfer();
      data.items.add(new page.File(['hola'], 'soltado.txt', { type: 'text/plain' }));
      form.dispatchEvent(new page.DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await page.locator('[data-upload="soltado.txt"][data-uploaded="yes"]').waitFor();
    await page.getByRole('button', { name: 'Remove soltado.txt' }).click();
    await page.locator('[data-upload="soltado.txt"]').waitFor({ state: 'detached' });

    // Images are previewed (fetched with the agent's token).
    const { visitorConversation } = await charla.mutate(`{ visitorConversation { id } }`, {}, visitor.visitorToken);
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    const image = await charla.upload(png, { token: ana.token, conversationId: visitorConversation.id, fileName: 'foto.png', claimedType: 'image/png' });
    await charla.mutate(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId: visitorConversation.id, content: '', attachmentIds: [image.body.id] } }, ana.token);
    const preview = page.locator('[data-preview][alt="foto.png"]');
    await preview.waitFor();
    await expect.poll(() => preview.evaluate((element: any) => element.naturalWidth)).toBe(1);
    await context.close();
  });

  it('keeps a long list light in the page, loads more on scrolling, and filters by label and search', async () => {
    const account = await buildAccount({ name: 'Tienda Grande' });
    const bea = await buildAgent(account._id, { name: 'Bea Soto', email: 'bea@grande.test', password: 'bea secret password' });
    const big = await buildInbox(account._id, { name: 'Grande web', memberIds: [bea.user._id] });
    const admin = await buildAgent(account._id, { role: 'administrator' });
    await charla.mutate(`mutation { createLabel(input: { title: "vip" }) { title } }`, {}, admin.token);
    const start = Date.now();
    for (let index = 0; index < 120; index++) {
      const contact = await buildContact(big, { name: index === 77 ? 'Zoe Única' : `Cliente ${index}` });
      await buildConversation(contact, { lastActivityAt: new Date(start - index * 60_000), labels: index === 77 ? ['vip'] : [] });
    }
    const { page, context } = await openConsole();
    await page.waitForURL(/\/app\/login/);
    await signIn(page, bea);
    await tab(page, 'ALL').click();
    await expect.poll(() => tab(page, 'ALL').textContent()).toMatch(/All\s*120/);
    await page.locator('[data-conversation]').first().waitFor();
    // Newest activity first; only the rows in view are drawn.
    expect(await page.locator('[data-conversation]').first().textContent()).toContain('Cliente 0');
    expect(await page.locator('[data-conversation]').count()).toBeLessThan(40);
    // Scrolling to the end loads the next pages, still drawing only a window of rows.
    const last = page.locator('[data-conversation]').filter({ hasText: 'Cliente 119' });
    await expect
      .poll(async () => {
        await page.locator('[data-list-scroller]').evaluate((element: any) => element.scrollTo(0, element.scrollHeight));
        return last.count();
      })
      .toBe(1);
    expect(await page.locator('[data-conversation]').count()).toBeLessThan(40);

    await page.locator('select[name="label-filter"]').selectOption('vip');
    await expect.poll(() => page.locator('[data-conversation]').allTextContents()).toEqual([expect.stringContaining('Zoe Única')]);
    await page.locator('select[name="label-filter"]').selectOption('');
    await page.locator('input[name="search"]').fill('Cliente 11');
    await expect.poll(() => page.locator('[data-conversation]').count()).toBe(11);
    await page.screenshot({ path: join(SCREENSHOTS, 'long-list.png') });

    // A custom snooze time.
    await page.locator('[data-conversation]').first().click();
    await page.locator('[data-action="more"]').click();
    await page.getByRole('menuitem', { name: 'Custom date and time…' }).click();
    await page.locator('input[name="snooze-until"]').fill('2099-05-04T10:30');
    await page.locator('[data-snooze-custom] button[type="submit"]').click();
    await expect.poll(() => page.locator('[data-status]').textContent()).toBe('Snoozed');
    await page.getByText(/Snoozed until May 4/).waitFor();
    await context.close();
  });

  it('mentions an agent in a private note: their badge counts it live and opens the conversation', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Necesito ayuda con un envío');
    // Lucas, an inbox member, is told of the new conversation; he has read everything so far.
    const { visitorConversation } = await charla.mutate(`{ visitorConversation { id } }`, {}, visitor.visitorToken);
    await expect
      .poll(async () => JSON.stringify(await charla.mutate('{ notifications(first: 5) { edges { node { conversation { id } } } } }', {}, lucas.token)))
      .toContain(visitorConversation.id);
    await charla.mutate('mutation { markNotificationsRead(ids: null) }', {}, lucas.token);
    const colleague = await openConsole();
    await colleague.page.waitForURL(/\/app\/login/);
    await signIn(colleague.page, lucas);
    await colleague.page.getByRole('heading', { name: 'Todas las conversaciones' }).waitFor();
    await colleague.page.locator('[data-notifications]').waitFor();
    expect(await colleague.page.locator('[data-unread-count]').count()).toBe(0);

    const { page, context } = await openConsole();
    await page.waitForURL(/\/app\/login/);
    await signIn(page, ana);
    await tab(page, 'ALL').click();
    const item = await listItemOf(page, visitor.visitorToken);
    const displayId = await item.getAttribute('data-conversation');
    await item.click();
    await page.locator('[data-kind="incoming"]').filter({ hasText: 'Necesito ayuda' }).waitFor();
    await page.getByRole('tab', { name: 'Private note' }).click();
    await composer(page).pressSequentially('Mira esto @Luc');
    await page.locator('[data-suggestion="@Lucas Pérez"]').waitFor();
    await composer(page).press('Enter');
    expect(await composer(page).inputValue()).toBe('Mira esto @Lucas Pérez ');
    await composer(page).pressSequentially('por favor');
    await composer(page).press('Enter');
    const note = page.locator('[data-kind="note"]').filter({ hasText: 'por favor' });
    await note.locator('.mention', { hasText: '@Lucas Pérez' }).waitFor();

    // The colleague's badge counts the mention live; the notification opens the conversation.
    await colleague.page.locator('[data-unread-count]').filter({ hasText: '1' }).waitFor();
    await colleague.page.locator('[data-notifications]').click();
    await colleague.page.locator('[data-notification]').filter({ hasText: `Has sido mencionado en la conversación #${displayId}` }).click();
    await colleague.page.waitForURL(new RegExp(`/app/conversations/${displayId}$`));
    await colleague.page.locator('[data-kind="note"]').filter({ hasText: 'por favor' }).waitFor();
    await colleague.page.locator('[data-unread-count]').waitFor({ state: 'detached' });
    await colleague.page.screenshot({ path: join(SCREENSHOTS, 'mention-es.png') });
    await colleague.context.close();
    await context.close();
  });

  it('says so while the connection is down, and shows what happened meanwhile once it is back', async () => {
    const relay = await startRelay(charla.url);
    try {
      const { page, context } = await openConsole('en-US', relay.url);
      await page.waitForURL(/\/app\/login/);
      await signIn(page, ana);
      await tab(page, 'ALL').click();
      const before = await openWidget(charla, inbox.websiteToken!);
      await say(charla, before.visitorToken, 'Antes del corte');
      await (await listItemOf(page, before.visitorToken)).waitFor();
      expect(await page.locator('[data-reconnecting]').count()).toBe(0);

      await relay.cut();
      await page.locator('[data-reconnecting]').filter({ hasText: 'Connection lost: reconnecting…' }).waitFor();
      const visitor = await openWidget(charla, inbox.websiteToken!);
      await say(charla, visitor.visitorToken, 'Escribí mientras no estabas');
      await relay.restore();
      await page.locator('[data-reconnecting]').waitFor({ state: 'detached' });
      const missed = await listItemOf(page, visitor.visitorToken);
      await missed.waitFor();
      // And it is live again.
      await missed.click();
      await say(charla, visitor.visitorToken, '¿Me lees?');
      await page.locator('[data-kind="incoming"]').filter({ hasText: '¿Me lees?' }).waitFor();
      await context.close();
    } finally {
      await relay.stop();
    }
  });

  it('opens a pending conversation and assigns it to the agent from its banner', async () => {
    const contact = await buildContact(inbox, { name: 'Marta Ruiz', email: 'marta@example.test' });
    const earlier = await buildConversation(contact, { status: 'resolved', lastActivityAt: new Date(Date.now() - 86_400_000) });
    const pending = await buildConversation(contact, { status: 'pending' });
    const { page, context } = await openConsole();
    await page.goto(`${charla.url}/app/conversations/${pending.displayId}`);
    await page.waitForURL(/\/app\/login\?next=/);
    await signIn(page, ana);
    // After signing in, the deep link (as notification e-mails send) opens.
    await page.waitForURL(new RegExp(`/app/conversations/${pending.displayId}$`));
    await page.getByRole('heading', { name: 'Marta Ruiz' }).waitFor();
    await page.locator('[data-pending-banner]').waitFor();
    await page.getByRole('button', { name: 'Open and assign to me' }).click();
    await expect.poll(() => page.locator('[data-status]').textContent()).toBe('Open');
    await expect.poll(() => page.locator('select[name="assignee"]').inputValue()).toBe(String(ana.user._id));
    await page.locator('[data-pending-banner]').waitFor({ state: 'detached' });

    // The right panel: the contact's e-mail as a mailto link, and their other conversation, which opens.
    expect(await page.locator('[data-contact-email]').getAttribute('href')).toBe('mailto:marta@example.test');
    await page.locator(`[data-previous="${earlier.displayId}"]`).click();
    await page.waitForURL(new RegExp(`/app/conversations/${earlier.displayId}$`));
    await expect.poll(() => page.locator('[data-status]').textContent()).toBe('Resolved');
    await page.locator(`[data-previous="${pending.displayId}"]`).waitFor();
    await context.close();
  });

  it('lets an administrator edit a rule set: errors shown at their path and not saved; a valid one changes what happens', async () => {
    const { page, context } = await openConsole();
    await page.waitForURL(/\/app\/login/);
    await signIn(page, admin);
    await page.locator('[data-nav="settings"]').click();
    await page.waitForURL(/\/app\/settings/);
    await page.locator('[data-settings="rule-sets"]').click();
    const editor = page.locator('textarea[name="rule-set-json"]');
    await expect.poll(() => editor.inputValue()).toContain('"rules"');
    const document = (labels: string[]) => JSON.stringify({
      version: 1,
      name: 'Facturas',
      inboxes: ['*'],
      rules: [{ id: 'factura', name: 'Invoices get a label', on: 'message.created',
        conditions: { all: [{ fact: 'message.type', operator: 'equal', value: 'incoming' }, { fact: 'message.content', operator: 'hasWord', value: ['factura'] }] },
        actions: [{ type: 'add_label', params: { labels } }] }],
    }, null, 2);

    // Broken JSON: said so, nothing saved.
    await editor.fill('{ "version": 1, "name": ');
    await page.locator('[data-save-rules]').click();
    await page.locator('[data-rule-errors]').filter({ hasText: 'This is not valid JSON' }).waitFor();
    // A label the account does not have: the error names its path and line.
    const wrong = document(['no-such-label']);
    const wrongLine = wrong.slice(0, wrong.indexOf('"no-such-label"')).split('\n').length;
    await editor.fill(wrong);
    await page.locator('[data-save-rules]').click();
    const pathError = page.locator('[data-error-path="rules[0].actions[0].params.labels[0]"]');
    await pathError.waitFor();
    expect(await pathError.textContent()).toContain(`Line ${wrongLine} · rules[0].actions[0].params.labels[0] is not a label of this account`);
    // The editor selects the offending value.
    expect(await editor.evaluate((element: any) => element.value.slice(element.selectionStart, element.selectionEnd))).toBe('"no-such-label"');
    expect((await charla.mutate('{ ruleSets { id } }', {}, admin.token)).ruleSets).toEqual([]);

    // A valid document: a dry run shows it matching, saving stores version 1, and it acts.
    await editor.fill(document(['pedido']));
    await page.locator('[data-dry-run]').click();
    await page.locator('[data-rule-result="factura"]').filter({ hasText: 'matches' }).waitFor();
    await page.locator('[data-planned-action]').filter({ hasText: 'add_label' }).waitFor();
    await page.locator('[data-save-rules]').click();
    await page.locator('[data-toast]').filter({ hasText: 'Rule set saved (version 1)' }).waitFor();
    await page.getByText('Versions').waitFor();
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Necesito mi factura');
    const { visitorConversation } = await charla.mutate(`{ visitorConversation { id } }`, {}, visitor.visitorToken);
    await expect
      .poll(async () => (await charla.mutate('query($id: ID!) { conversation(id: $id) { labels } }', { id: visitorConversation.id }, admin.token)).conversation.labels)
      .toEqual(['pedido']);
    await page.screenshot({ path: join(SCREENSHOTS, 'rule-set-editor.png') });

    // Contacts: search, detail, and their conversations, which open.
    const rosa = await buildContact(inbox, { name: 'Rosa Díaz', email: 'rosa@example.test' });
    await buildConversation(rosa, { status: 'resolved' });
    const latest = await buildConversation(rosa);
    await page.locator('[data-nav="contacts"]').click();
    await page.locator('input[name="contact-search"]').fill('Rosa');
    await page.locator('[data-contact-row]').filter({ hasText: 'Rosa Díaz' }).click();
    await page.locator('[data-contact-detail]').getByText('rosa@example.test').waitFor();
    await expect.poll(() => page.locator('[data-contact-conversation]').count()).toBe(2);
    await page.locator(`[data-contact-conversation="${latest.displayId}"]`).click();
    await page.waitForURL(new RegExp(`/app/conversations/${latest.displayId}$`));
    await page.getByRole('heading', { name: 'Rosa Díaz' }).waitFor();

    // Reports: the numbers and the chart of the last days.
    await page.locator('[data-nav="reports"]').click();
    await page.locator('[data-metric="conversations"] dd').waitFor();
    expect(Number(await page.locator('[data-metric="conversations"] dd').textContent())).toBeGreaterThan(0);
    await page.getByRole('img', { name: 'Conversations and resolutions per day' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'reports.png') });
    await context.close();
  });

  it('lets an administrator set up an inbox (greeting, snippet), an agent, an API token, a webhook and a campaign', async () => {
    const { page, context } = await openConsole();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: charla.url });
    await page.waitForURL(/\/app\/login/);
    await signIn(page, admin);
    await page.locator('[data-nav="settings"]').click();
    await page.locator('select[name="inbox-settings"]').selectOption({ label: 'Tienda Sol web · Web widget' });
    const form = page.locator('[data-inbox-form]');
    await expect.poll(() => form.locator('input[name="inbox-name"]').inputValue()).toBe('Tienda Sol web');
    expect(await form.locator('[data-snippet]').inputValue()).toContain(`data-website-token="${inbox.websiteToken}"`);
    await form.locator('[data-copy-snippet]').click();
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toContain('/widget/sdk.js');
    await form.locator('input[name="greeting-enabled"]').check();
    await form.locator('textarea[name="greeting-text"]').fill('¡Hola! Te atendemos enseguida.');
    await form.locator('[data-save-inbox]').click();
    await page.locator('[data-toast]').filter({ hasText: 'Inbox saved' }).waitFor();

    // The new greeting is what a new visitor gets.
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    await expect.poll(async () => visitorSees(visitor.visitorToken)).toContain('¡Hola! Te atendemos enseguida.');
    await page.screenshot({ path: join(SCREENSHOTS, 'inbox-settings.png'), fullPage: true });

    // A new agent, who can then sign in.
    await page.locator('[data-settings="agents"]').click();
    const create = page.locator('[data-create-agent]');
    await create.locator('input[name="agent-name"]').fill('Diego Luna');
    await create.locator('input[name="agent-email"]').fill('diego@tienda.test');
    await create.locator('input[name="agent-password"]').fill('diego secret password');
    await create.getByRole('button', { name: 'Add agent' }).click();
    await page.locator('[data-agent-row="diego@tienda.test"]').waitFor();
    const login = await charla.graphql(`mutation { login(email: "diego@tienda.test", password: "diego secret password") { agent { name role } } }`);
    expect(login.data?.login.agent).toEqual({ name: 'Diego Luna', role: 'AGENT' });

    // An API token, shown once, that works; a webhook; a campaign.
    await page.locator('[data-settings="access-tokens"]').click();
    await page.locator('input[name="token-name"]').fill('CRM');
    await page.locator('input[name="token-name"]').press('Enter');
    const token = (await page.locator('[data-new-token] code').textContent())!;
    expect((await charla.graphql('{ me { name } }', {}, token)).data?.me.name).toBe('Carmen Admin');
    await page.locator('[data-settings="webhooks"]').click();
    await page.locator('input[name="webhook-url"]').fill('https://crm.example/hooks/charla');
    await page.locator('input[name="webhook-url"]').press('Enter');
    await page.locator('[data-webhook="https://crm.example/hooks/charla"]').waitFor();
    await page.locator('[data-settings="campaigns"]').click();
    await page.locator('select[name="campaign-inbox"]').selectOption({ label: 'Tienda Sol web' });
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('[data-campaign="Free shipping"]').waitFor();
    await context.close();
  });

  it('shows a Spanish agent the Spanish labels', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Buenas tardes');
    // The browser says English; the agent's own locale decides once signed in.
    const { page, context } = await openConsole('en-US');
    await page.waitForURL(/\/app\/login/);
    await signIn(page, lucas);
    await page.getByRole('heading', { name: 'Todas las conversaciones' }).waitFor();
    await expect.poll(() => tab(page, 'MINE').textContent()).toMatch(/Mías/);
    await expect.poll(() => tab(page, 'UNASSIGNED').textContent()).toMatch(/Sin asignar/);
    await tab(page, 'UNASSIGNED').click();
    await (await listItemOf(page, visitor.visitorToken)).click();
    await page.getByRole('tab', { name: 'Responder' }).waitFor();
    await page.getByRole('tab', { name: 'Nota privada' }).click();
    await page.getByRole('button', { name: 'Añadir nota' }).waitFor();
    await page.getByRole('button', { name: 'Resolver' }).waitFor();
    await page.getByRole('button', { name: 'Silenciar conversación' }).waitFor();
    await page.getByRole('button', { name: 'Enviar transcripción' }).waitFor();
    await page.getByRole('button', { name: 'Asignarme' }).click();
    await page.locator('[data-kind="activity"]').filter({ hasText: /Lucas Pérez/ }).waitFor();
    await page.getByText('Agente asignado').waitFor();
    await page.getByText('Conversaciones anteriores').waitFor();
    await page.getByLabel('Agregar etiquetas').waitFor();
    await page.getByRole('button', { name: 'Cerrar sesión' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'conversation-es.png') });
    await context.close();
  });
});

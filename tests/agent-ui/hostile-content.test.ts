// Markup where people write free text, rendered in the console by a real browser: a contact's
// name, a visitor's message (HTML and a `javascript:` Markdown link), an attachment's file name, an
// agent's name and a label written to the database before titles were checked. Every payload
// sets window.__xss or opens a dialog if it ever runs; neither happens, no element carries an
// event handler or a javascript: link, and the text shows literally.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox, type BuiltAgent } from '../support/factories.ts';
import { HOSTILE, injectedElements, recordDialogs, scriptRan } from '../support/hostile-markup.ts';
import { securityTally } from '../support/security-tally.ts';

const tally = securityTally('hostile content in the console');

const PAYLOADS = HOSTILE;

let charla: TestCharla;
let browser: Browser;
let ana: BuiltAgent;
let displayId: number;
let contactId: string;

beforeAll(async () => {
  charla = await startTestCharla();
  browser = await launchBrowser();
  const account = await buildAccount();
  ana = await buildAgent(account._id, { name: 'Ana García' });
  const hostileAgent = await buildAgent(account._id, { name: PAYLOADS.attribute });
  const inbox = await buildInbox(account._id, { memberIds: [ana.user._id, hostileAgent.user._id] });
  const visitor = await buildContact(inbox, { name: PAYLOADS.image });
  contactId = String(visitor.contact._id);
  // The API refuses such a label title; one stored earlier must still render as text.
  const conversation = await buildConversation(visitor, { labels: [PAYLOADS.script] });
  displayId = conversation.displayId;
  const upload = await charla.upload('hola', { token: visitor.visitorToken, fileName: PAYLOADS.fileName, claimedType: 'text/plain' });
  await charla.mutate(`mutation($content: String!, $ids: [ID!]) { sendVisitorMessage(content: $content, attachmentIds: $ids) { id } }`, { content: `${PAYLOADS.script} ${PAYLOADS.image} ${PAYLOADS.link}`, ids: [upload.body.id] }, visitor.visitorToken);
  await charla.mutate(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId: String(conversation._id), content: PAYLOADS.attribute } }, hostileAgent.token);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stopAllTestCharlas();
});

/** A signed-in console (the session the sign-in form would store), recording dialogs. */
async function openConsole(path: string): Promise<{ page: Page; dialogs: string[]; close(): Promise<void> }> {
  const context = await browser.newContext();
  await context.addInitScript((token) => (globalThis as any).localStorage.setItem('charla.console.token', token), ana.token);
  const page = await context.newPage();
  const dialogs = recordDialogs(page);
  await page.goto(`${charla.url}/app${path}`);
  return { page, dialogs, close: () => context.close() };
}

async function expectInert(page: Page, dialogs: string[]): Promise<void> {
  expect(tally.expectDenied(!(await scriptRan(page)) && dialogs.length === 0)).toBe(true);
  expect(await injectedElements(page)).toEqual([]);
}

describe('the console shows hostile text as text', { timeout: 60_000 }, () => {
  it('in a conversation: the contact name, the message, its attachment, the label and the agent name', async () => {
    const { page, dialogs, close } = await openConsole(`/conversations/${displayId}`);
    const incoming = page.locator('[data-kind="incoming"]');
    await incoming.filter({ hasText: PAYLOADS.script }).waitFor();
    // Markdown turns the javascript: link into plain text, not a link.
    await expect.poll(() => incoming.textContent()).toContain('pulse aquí');
    expect(await incoming.textContent()).toContain(PAYLOADS.image);
    await page.getByText(PAYLOADS.fileName).first().waitFor();
    await page.getByText(PAYLOADS.attribute, { exact: true }).first().waitFor();
    await page.getByText(PAYLOADS.image, { exact: true }).first().waitFor();
    await page.locator('[data-labels] li').filter({ hasText: PAYLOADS.script }).waitFor();
    await expectInert(page, dialogs);
    await close();
  });

  it("on the contact's page", async () => {
    const { page, dialogs, close } = await openConsole(`/contacts/${contactId}`);
    await page.getByText(PAYLOADS.image, { exact: true }).first().waitFor();
    await expectInert(page, dialogs);
    await close();
  });
});

// Markup where people write free text, rendered by the widget in a real browser on a host page:
// the inbox's name, an agent's name, an agent's reply (HTML and a `javascript:` Markdown link), an
// attachment's file name and the visitor's own message — in the chat and, closed, on the launcher.
// Every payload sets window.__xss or opens a dialog if it ever runs; neither happens in the chat's
// frame or the host page, no element carries an event handler or a javascript: link, and the text
// shows literally.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation } from '../../server/src/db/models/conversation.ts';
import type { InboxDoc } from '../../server/src/db/models/inbox.ts';
import { launchBrowser } from '../support/browser.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../support/factories.ts';
import { HOSTILE, injectedElements, recordDialogs, scriptRan } from '../support/hostile-markup.ts';
import { snippetPage, startHostSite, type HostSite } from '../support/host-site.ts';
import { securityTally } from '../support/security-tally.ts';

const tally = securityTally('hostile content in the widget');

let charla: TestCharla;
let site: HostSite;
let browser: Browser;
let agent: BuiltAgent;
let inbox: InboxDoc;

beforeAll(async () => {
  charla = await startTestCharla();
  site = await startHostSite();
  browser = await launchBrowser();
  const account = await buildAccount();
  agent = await buildAgent(account._id, { name: HOSTILE.image, availability: 'online' });
  inbox = await buildInbox(account._id, { name: HOSTILE.attribute, memberIds: [agent.user._id] });
  site.page('/', snippetPage({ charlaUrl: charla.url, websiteToken: inbox.websiteToken! }));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await site?.stop();
  await stopAllTestCharlas();
});

async function reply(conversationId: string, content: string, attachmentIds: string[] = []): Promise<void> {
  await charla.mutate(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId, content, attachmentIds } }, agent.token);
}

describe('the widget shows hostile text as text', { timeout: 90_000 }, () => {
  it("in the chat and on the launcher: the inbox's and agent's names, replies, file names and the visitor's own message", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs = recordDialogs(page);
    await page.goto(`http://shop.test:${site.port}/`);
    const chat = page.frameLocator('charla-widget iframe');
    await page.locator('charla-widget .launcher').click();
    await chat.getByRole('heading', { name: HOSTILE.attribute }).waitFor();

    const box = chat.getByRole('textbox', { name: /Type your message/ });
    await box.fill(HOSTILE.script);
    await box.press('Enter');
    await chat.getByText(HOSTILE.script).waitFor();

    const conversation = await Conversation.findOne({ inboxId: inbox._id });
    const conversationId = String(conversation!._id);
    const upload = await charla.upload('factura', { token: agent.token, conversationId, fileName: HOSTILE.fileName, claimedType: 'text/plain' });
    await reply(conversationId, `${HOSTILE.image} ${HOSTILE.link}`, [upload.body.id]);
    await chat.getByText(`${HOSTILE.image} `).first().waitFor();
    // The agent's name, as the sender of the reply.
    await chat.getByText(HOSTILE.image, { exact: true }).first().waitFor();
    await chat.getByText(HOSTILE.fileName).waitFor();
    await chat.getByText('pulse aquí').waitFor();

    const frame = page.frames().find((candidate) => candidate.url().includes('/widget/app/'))!;
    expect(tally.expectDenied(!(await scriptRan(frame)) && dialogs.length === 0)).toBe(true);
    expect(await injectedElements(frame)).toEqual([]);

    // Closed, a new reply reaches the launcher on the host page.
    await chat.getByRole('button', { name: 'Close chat' }).click();
    await reply(conversationId, HOSTILE.attribute);
    await page.locator('charla-widget .badge', { hasText: '1' }).waitFor();
    expect(tally.expectDenied(!(await scriptRan(page)) && !(await scriptRan(frame)) && dialogs.length === 0)).toBe(true);
    expect(await injectedElements(page)).toEqual([]);
    await context.close();
  });
});

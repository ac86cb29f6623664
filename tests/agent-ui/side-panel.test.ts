// The conversation's right panel in a real browser: the visitor's page, the agents who took part,
// changing the priority, editing the contact (a taken e-mail refused, the form kept), and the
// contact's previous conversations.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contact } from '../../server/src/db/models/contact.ts';
import { Conversation } from '../../server/src/db/models/conversation.ts';
import { launchBrowser } from '../support/browser.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox, type BuiltAgent } from '../support/factories.ts';

let charla: TestCharla;
let browser: Browser;
let ana: BuiltAgent;
let admin: BuiltAgent;
let inbox: Awaited<ReturnType<typeof buildInbox>>;

beforeAll(async () => {
  charla = await startTestCharla();
  browser = await launchBrowser();
  const account = await buildAccount({ name: 'Tienda Sol' });
  ana = await buildAgent(account._id, { name: 'Ana García', email: 'ana@panel.test', password: 'ana secret password' });
  admin = await buildAgent(account._id, { role: 'administrator', name: 'Carmen Admin' });
  inbox = await buildInbox(account._id, { name: 'Web', memberIds: [ana.user._id] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stopAllTestCharlas();
});

async function openAs(agent: BuiltAgent, displayId: number): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`${charla.url}/`);
  await page.getByLabel('E-mail').fill(agent.user.email);
  await page.getByLabel('Password').fill(agent.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/app\/conversations$/);
  await page.goto(`${charla.url}/app/conversations/${displayId}`);
  return page;
}

describe('the right panel', { timeout: 60_000 }, () => {
  it('shows the visitor page and participants, changes the priority and edits the contact', async () => {
    await buildContact(inbox, { name: 'Someone Else', email: 'taken@panel.test' });
    const built = await buildContact(inbox, { name: 'Visitor 7' });
    const conversation = await buildConversation(built);
    await Conversation.updateOne({ _id: conversation._id }, { $set: { 'additionalAttributes.visitor': { pageUrl: 'https://shop.test/pricing', browserLanguage: 'es-ES' } } });
    await charla.mutate(`mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { id } }`, { id: String(conversation._id), agentId: String(admin.user._id) }, admin.token);

    const page = await openAs(ana, conversation.displayId);
    await page.locator('[data-contact]').waitFor();
    await page.locator('[data-visitor-page]').filter({ hasText: 'https://shop.test/pricing' }).waitFor();
    await page.locator('[data-participant="Carmen Admin"]').waitFor();

    // Priority: chosen in the panel, stored, and still shown after a reload.
    await page.locator('select[name="priority"]').selectOption('HIGH');
    await expect.poll(async () => (await Conversation.findById(conversation._id).lean())!.priority).toBe('high');
    await page.reload();
    await expect.poll(() => page.locator('select[name="priority"]').inputValue()).toBe('HIGH');

    // An e-mail another contact has is refused in words; what was typed stays.
    await page.locator('[data-edit-contact]').click();
    const form = page.locator('[data-contact-form]');
    await form.locator('input[name="contact-name"]').fill('Lucía Pérez');
    await form.locator('input[name="contact-email"]').fill('taken@panel.test');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('alert').filter({ hasText: 'Another contact already has this e-mail address' }).waitFor();
    expect(await form.locator('input[name="contact-name"]').inputValue()).toBe('Lucía Pérez');

    await form.locator('input[name="contact-email"]').fill('lucia@panel.test');
    await form.locator('input[name="contact-phone"]').fill('+34 600 111 222');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.waitFor({ state: 'detached' });
    await page.locator('[data-contact-email]').filter({ hasText: 'lucia@panel.test' }).waitFor();
    await page.locator('[data-contact]').getByText('Lucía Pérez').first().waitFor();
    await page.locator('a[href="tel:+34 600 111 222"]').waitFor();
    const stored = await Contact.findById(built.contact._id).lean();
    expect(stored).toMatchObject({ name: 'Lucía Pérez', email: 'lucia@panel.test', phone: '+34 600 111 222' });

    // Custom attributes: added, changed and removed in the same form.
    await Contact.updateOne({ _id: built.contact._id }, { $set: { customAttributes: { plan: 'basic', legacy: 'yes' } } });
    await page.reload();
    await page.locator('[data-edit-contact]').click();
    const rows = page.locator('[data-contact-form] [data-attribute-row]');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).locator('input[name="attribute-name"]').inputValue()).toBe('plan');
    expect(await rows.nth(1).locator('input[name="attribute-name"]').inputValue()).toBe('legacy');
    await rows.nth(0).locator('input[name="attribute-value"]').fill('premium');
    await rows.nth(1).getByRole('button', { name: 'Remove attribute' }).click();
    await page.locator('[data-add-attribute]').click();
    await rows.last().locator('input[name="attribute-name"]').fill('city');
    await rows.last().locator('input[name="attribute-value"]').fill('Sevilla');
    await page.locator('[data-contact-form]').getByRole('button', { name: 'Save' }).click();
    await page.locator('[data-contact-form]').waitFor({ state: 'detached' });
    await page.locator('[data-contact] dd').filter({ hasText: 'Sevilla' }).waitFor();
    expect((await Contact.findById(built.contact._id).lean())!.customAttributes).toEqual({ plan: 'premium', city: 'Sevilla' });

    // Ana's own reply makes her a participant too.
    await page.locator('textarea[name="message"]').fill('Hola Lucía');
    await page.locator('textarea[name="message"]').press('Enter');
    await page.reload();
    await page.locator('[data-participant="Ana García"]').waitFor();
    await page.context().close();
  });

  it('lists the contact\'s previous conversations on their next one, and opens one', async () => {
    const built = await buildContact(inbox, { name: 'Pablo Ruiz' });
    const first = await buildConversation(built, { status: 'resolved' });
    const second = await buildConversation(built);
    await Conversation.updateOne({ _id: second._id }, { $set: { previousConversationId: first._id } });

    const page = await openAs(ana, second.displayId);
    const previous = page.locator(`[data-previous="${first.displayId}"]`);
    await previous.filter({ hasText: 'Resolved' }).waitFor();
    await previous.click();
    await page.waitForURL(new RegExp(`/app/conversations/${first.displayId}$`));
    await page.locator(`[data-previous="${second.displayId}"]`).waitFor();
    await page.context().close();
  });

  it('says a conversation number that does not exist is not found', async () => {
    const page = await openAs(ana, 987_654);
    await page.getByRole('alert').filter({ hasText: 'This conversation does not exist or is not visible to you' }).waitFor();
    expect(await page.locator('[data-contact]').count()).toBe(0);
    await page.context().close();
  });
});

// The demo installation's host page (/widget/demo) works as a visitor would use it: the demo
// inbox's greeting and e-mail capture answer "Hola" in the widget it embeds.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { DEMO_GREETING } from '../../server/src/bootstrap.ts';
import { launchBrowser } from '../support/browser.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../support/charla.ts';

let charla: TestCharla;
let browser: Browser;

beforeAll(async () => {
  charla = await startTestCharla({}, { CHARLA_DEMO: '1' });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stopAllTestCharlas();
});

describe('the widget demo page', () => {
  it('embeds the demo inbox’s widget, which greets a visitor', async () => {
    const page = await browser.newPage();
    await page.goto(`${charla.url}/widget/demo`);
    await page.locator('charla-widget .launcher').click();
    const chat = page.frameLocator('charla-widget iframe');
    await chat.getByRole('heading', { name: 'Website' }).waitFor();
    const box = chat.getByRole('textbox', { name: 'Type your message…' });
    await box.fill('Hola');
    await box.press('Enter');
    await chat.getByText(DEMO_GREETING).waitFor();
    await chat.getByText('Get notified by email').waitFor();
    await page.close();
  });
});

// Markup payloads for browser tests of text people write, and the checks that none of it ran:
// each payload sets window.__xss and opens a dialog if it is ever parsed as markup.
import type { Frame, Page } from 'playwright-core';

export const HOSTILE = {
  image: '<img src=x onerror="window.__xss=1;alert(1)">',
  script: '<script>window.__xss=2;alert(2)</script>',
  attribute: '"><svg onload="window.__xss=3;alert(3)">',
  link: '[pulse aquí](javascript:window.__xss=4;alert(4))',
  // Multipart encodes quotes in file names, so this one does without.
  fileName: '<svg onload=window.__xss=5;alert(5)>.txt',
};

/** Records the dialogs a page (and its frames) opens, dismissing them. */
export function recordDialogs(page: Page): string[] {
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return dialogs;
}

/** Whether a payload's script ran in this document. */
export const scriptRan = async (target: Page | Frame): Promise<boolean> => (await target.evaluate(() => (globalThis as any).__xss)) !== undefined;

/**
 * Elements a payload would have created — event-handler attributes, javascript: values,
 * <img src=x> — in the document and the shadow roots inside it (the widget's launcher).
 */
export const injectedElements = (target: Page | Frame): Promise<string[]> =>
  target.evaluate(() => {
    const all = (root: any): any[] => [...root.querySelectorAll('*')].flatMap((element: any) => [element, ...(element.shadowRoot ? all(element.shadowRoot) : [])]);
    return all((globalThis as any).document)
      .filter((element) => [...element.attributes].some((attribute: any) => /^on/i.test(attribute.name) || /^\s*javascript:/i.test(attribute.value)) || (element.tagName === 'IMG' && element.getAttribute('src') === 'x'))
      .map((element) => String(element.outerHTML).slice(0, 120));
  });

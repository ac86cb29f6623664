// How the server hands out the web widget: the loader for any host page, the app page framed only
// by the inbox's allowed domains, long-cached hashed assets, a demo page, and the cross-origin
// answer the loader's first request needs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { appPolicy } from '../../../server/src/http/widget-assets.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildInbox } from '../../support/factories.ts';

let charla: TestCharla;
let openInbox: InboxDoc;
let shopInbox: InboxDoc;

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  openInbox = await buildInbox(account._id, { name: 'Open <b>site</b>' });
  shopInbox = await buildInbox(account._id, { settings: { allowedDomains: ['shop.example', '*.tienda.example', 'bad; script-src *'] } as never });
});

afterAll(stopAllTestCharlas);

const frameAncestors = (policy: string | null): string | undefined => policy?.split(';').map((part) => part.trim()).find((part) => part.startsWith('frame-ancestors'));

describe('serving the web widget', () => {
  it('serves the loader to any page as cacheable JavaScript, gzipped when asked', async () => {
    const response = await fetch(`${charla.url}/widget/sdk.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(await response.text()).toContain('charla');
  });

  it('frames the app only where the inbox allows, and only for a known website token', async () => {
    const open = await fetch(`${charla.url}/widget/app/?website_token=${openInbox.websiteToken}`);
    expect(open.status).toBe(200);
    expect(open.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(open.headers.get('cache-control')).toBe('no-cache');
    expect(frameAncestors(open.headers.get('content-security-policy'))).toBe('frame-ancestors *');
    expect(open.headers.get('content-security-policy')).toContain("script-src 'self'");

    const shop = await fetch(`${charla.url}/widget/app/?website_token=${shopInbox.websiteToken}`);
    // Subdomain wildcards include the domain itself; a value that is not a host name is left out.
    expect(frameAncestors(shop.headers.get('content-security-policy'))).toBe(
      'frame-ancestors http://shop.example:* https://shop.example:* http://*.tienda.example:* https://*.tienda.example:* http://tienda.example:* https://tienda.example:*',
    );

    expect((await fetch(`${charla.url}/widget/app/?website_token=nope`)).status).toBe(404);
    expect((await fetch(`${charla.url}/widget/app/`)).status).toBe(404);
  });

  it('refuses all framing when no allowed domain is usable', () => {
    expect(frameAncestors(appPolicy(['not a domain']))).toBe("frame-ancestors 'none'");
  });

  it('serves the app’s hashed assets for a year and nothing outside them', async () => {
    const page = await (await fetch(`${charla.url}/widget/app/?website_token=${openInbox.websiteToken}`)).text();
    const script = page.match(/src="\.\/(assets\/[^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${charla.url}/widget/app/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${charla.url}/widget/app/assets/..%2F..%2Fsdk.js`)).status).toBe(404);
    expect((await fetch(`${charla.url}/widget/app/assets/nope.js`)).status).toBe(404);
  });

  it('offers a demo host page with the snippet for a web inbox, names escaped', async () => {
    const response = await fetch(`${charla.url}/widget/demo?website_token=${openInbox.websiteToken}`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain(`<script src="/widget/sdk.js" data-website-token="${openInbox.websiteToken}" defer></script>`);
    expect(html).toContain('Open &#60;b&#62;site&#60;/b&#62;');
    expect((await fetch(`${charla.url}/widget/demo?website_token=nope`)).status).toBe(404);
  });

  it('answers the loader’s cross-origin session request', async () => {
    const preflight = await fetch(`${charla.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'http://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://shop.example');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('content-type');
    // Credentials (cookies) are never allowed: only bearer tokens authorise.
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('the demo installation', () => {
  it('shows the demo inbox at /widget/demo', async () => {
    // One server per process at a time (mongoose has one connection): this one starts afresh.
    await stopAllTestCharlas();
    const demo = await startTestCharla({}, { CHARLA_DEMO: '1' });
    const html = await (await fetch(`${demo.url}/widget/demo`)).text();
    expect(html).toContain(`data-website-token="${demo.bootstrap.websiteToken}"`);
  });
});

// Automation's webhooks go to the public internet only, unless the configuration allows private
// networks: an address that is, or resolves to, loopback, private or link-local is refused.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPrivateAddress, postJson, WebhookRefused } from '../../../server/src/automation/post-webhook.ts';

let server: Server;
let port: number;
const received: unknown[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push(JSON.parse(body));
      response.statusCode = 202;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('postJson', () => {
  it('refuses loopback addresses and names that resolve to them, and reaches nothing', async () => {
    for (const url of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`]) {
      await expect(postJson(url, { hello: 1 }, { allowPrivateNetworks: false, timeoutMs: 2_000 })).rejects.toBeInstanceOf(WebhookRefused);
    }
    expect(received).toEqual([]);
  });

  it('posts JSON when private networks are allowed', async () => {
    expect(await postJson(`http://127.0.0.1:${port}/hook`, { hello: 'mundo' }, { allowPrivateNetworks: true, timeoutMs: 2_000 })).toBe(202);
    expect(received).toEqual([{ hello: 'mundo' }]);
  });

  it('knows the private ranges', () => {
    for (const address of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '127.0.0.1', '::1', 'fd00::1', 'fe80::1', '100.64.0.1', '::ffff:10.0.0.1']) {
      expect(isPrivateAddress(address)).toBe(true);
    }
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700::1111']) expect(isPrivateAddress(address)).toBe(false);
  });
});

// Requests to configured addresses go to the public internet only, unless the configuration allows
// a private network: an address that is, or resolves to, loopback, private or link-local is refused.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundClient, isPrivateAddress, OutboundRefused } from '../../../server/src/http/outbound-request.ts';

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

const json = (value: unknown) => ({ body: Buffer.from(JSON.stringify(value)), headers: { 'content-type': 'application/json' } });

describe('the outbound client', () => {
  it('refuses loopback addresses and names that resolve to them, and reaches nothing', async () => {
    const client = createOutboundClient([]);
    for (const url of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`]) {
      await expect(client.post(url, json({ hello: 1 }), { timeoutMs: 2_000 })).rejects.toBeInstanceOf(OutboundRefused);
    }
    // Allowing another network does not open this one.
    await expect(createOutboundClient(['10.0.0.0/8']).post(`http://127.0.0.1:${port}/`, json({}), { timeoutMs: 2_000 })).rejects.toBeInstanceOf(OutboundRefused);
    expect(received).toEqual([]);
  });

  it('posts to a private address the configuration allows, and returns the answer', async () => {
    const answer = await createOutboundClient(['127.0.0.1']).post(`http://127.0.0.1:${port}/hook`, json({ hello: 'mundo' }), { timeoutMs: 2_000 });
    expect(answer).toEqual({ status: 202, body: '' });
    expect(received).toEqual([{ hello: 'mundo' }]);
  });

  it('knows the private ranges', () => {
    for (const address of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '127.0.0.1', '::1', 'fd00::1', 'fe80::1', '100.64.0.1', '::ffff:10.0.0.1', '64:ff9b::a9fe:a9fe', '2002:a9fe:a9fe::1', '224.0.0.1', 'ff02::1', '198.18.0.1']) {
      expect(isPrivateAddress(address)).toBe(true);
    }
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700::1111']) expect(isPrivateAddress(address)).toBe(false);
  });
});

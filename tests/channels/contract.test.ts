// The contract every channel adapter keeps: it declares what it can do, checks its configuration,
// refuses requests it cannot authenticate and payloads it cannot read (with the field), and signs
// or otherwise authenticates what it sends through the server's HTTP transport only.
import { describe, expect, it } from 'vitest';
import { adapterFor, channelTypesWithAdapters, InboundRejected, sign, SIGNATURE_TOLERANCE_SECONDS, verifySignature, type HttpTransport } from '../../channels/src/index.ts';

const SECRET = 'inbox-secret-for-tests';
const now = new Date('2026-12-01T10:00:00Z');

function recordingTransport(status = 200, body = '{}') {
  const calls: Array<{ url: string; body: Buffer; headers: Record<string, string> }> = [];
  const http: HttpTransport = async (url, request) => {
    calls.push({ url, ...request });
    return { status, body };
  };
  return { http, calls };
}

describe.each(channelTypesWithAdapters())('the %s adapter', (type) => {
  const adapter = adapterFor(type)!;
  const context = (config: unknown, http: HttpTransport = recordingTransport().http) => ({ config: config as never, secret: SECRET, http, now: () => now });

  it('declares its type and capabilities', () => {
    expect(adapter.type).toBe(type);
    expect(adapter.capabilities).toEqual({
      attachments: expect.any(Boolean),
      typing: expect.any(Boolean),
      readReceipts: expect.any(Boolean),
      canInitiate: expect.any(Boolean),
      replyWindowHours: adapter.capabilities.replyWindowHours === null ? null : expect.any(Number),
    });
  });

  it('refuses an unauthenticated request', () => {
    const rawBody = Buffer.from('{}');
    expect(adapter.verify({ headers: {}, rawBody }, context({}))).toBe(false);
    expect(adapter.verify({ headers: { 'x-charla-signature': 'garbage' }, rawBody }, context({}))).toBe(false);
  });

  it('refuses a payload it cannot read, naming the field', () => {
    for (const payload of [null, 42, 'text', [], { unexpected: true }]) {
      expect(() => adapter.parseInbound(payload, context({}))).toThrow(InboundRejected);
    }
  });
});

describe('signatures', () => {
  const body = Buffer.from('{"hello":"mundo"}');

  it('verify what they sign, within the tolerance, and nothing else', () => {
    const header = sign(SECRET, body, now);
    expect(verifySignature(SECRET, header, body, now)).toBe(true);
    expect(verifySignature(SECRET, header, Buffer.from('{"hello":"world"}'), now)).toBe(false);
    expect(verifySignature('another-secret', header, body, now)).toBe(false);
    expect(verifySignature(SECRET, header, body, new Date(now.getTime() + (SIGNATURE_TOLERANCE_SECONDS + 1) * 1000))).toBe(false);
  });
});

describe('the api adapter', () => {
  const adapter = adapterFor('api')!;

  it('reads a contact message and keeps its id for de-duplication', () => {
    const events = adapter.parseInbound({ contact: { sourceId: 'c-1', name: 'Lucía' }, message: { externalId: 'm-1', content: 'Hola' } }, { config: {} as never, secret: SECRET, http: recordingTransport().http, now: () => now });
    expect(events).toEqual([{ kind: 'message', contact: { sourceId: 'c-1', name: 'Lucía' }, message: { externalId: 'm-1', content: 'Hola' } }]);
    expect(() => adapter.parseInbound({ contact: { sourceId: { $gt: '' } }, message: { externalId: 'm', content: 'x' } }, { config: {} as never, secret: SECRET, http: recordingTransport().http, now: () => now })).toThrow(
      expect.objectContaining({ path: 'contact.sourceId' }),
    );
  });

  it('sends signed JSON with its delivery id, and says whether a failure is worth another try', async () => {
    const outbound = {
      deliveryId: 'msg_1',
      conversation: { id: 'c', displayId: 7 },
      contact: { sourceId: 'c-1', name: 'Lucía', email: null },
      message: { id: 'm', content: 'Hola', contentType: 'text', createdAt: now.toISOString(), sender: { type: 'agent', name: 'Ana' }, attachments: [] },
    };
    const ok = recordingTransport(200, '{"id":"crm-9"}');
    expect(await adapter.send(outbound, { config: { callbackUrl: 'https://crm.example/hook' } as never, secret: SECRET, http: ok.http, now: () => now })).toEqual({ externalId: 'crm-9' });
    const [call] = ok.calls;
    expect(call!.headers['x-charla-delivery']).toBe('msg_1');
    expect(verifySignature(SECRET, call!.headers['x-charla-signature'], call!.body, now)).toBe(true);

    const busy = recordingTransport(503);
    await expect(adapter.send(outbound, { config: { callbackUrl: 'https://crm.example/hook' } as never, secret: SECRET, http: busy.http, now: () => now })).rejects.toMatchObject({ retryable: true });
    const gone = recordingTransport(410);
    await expect(adapter.send(outbound, { config: { callbackUrl: 'https://crm.example/hook' } as never, secret: SECRET, http: gone.http, now: () => now })).rejects.toMatchObject({ retryable: false });
    await expect(adapter.send(outbound, { config: {} as never, secret: SECRET, http: ok.http, now: () => now })).rejects.toMatchObject({ retryable: false });
  });
});

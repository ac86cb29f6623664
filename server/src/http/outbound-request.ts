// Requests the server makes to addresses administrators configure (automation's webhooks, the API
// channel's callbacks). They may not reach loopback, private or link-local networks unless the
// configuration allows those networks — checked on the address the connection really uses, so a
// name that resolves there (or changes to) is refused too.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const PRIVATE_NETWORKS = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['192.0.0.0', 24],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE_NETWORKS.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  // NAT64 and 6to4 embed IPv4 addresses, private ones included.
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['2002::', 16],
] as const) {
  PRIVATE_NETWORKS.addSubnet(network, prefix, 'ipv6');
}

export class OutboundRefused extends Error {}

/** Networks a configuration allows despite being private: "127.0.0.1", "10.0.0.0/8", "::1". */
export function allowedNetworks(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const family = isIP(address ?? '');
    if (family === 0) throw new Error(`not an IP address or network: ${entry}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, Number(prefix), type);
  }
  return list;
}

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 4 ? 'ipv4' : 'ipv6';
}

function unmapped(address: string): string {
  return /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;
}

export function isPrivateAddress(address: string): boolean {
  const plain = unmapped(address);
  return isIP(plain) === 0 || PRIVATE_NETWORKS.check(plain, familyOf(plain));
}

function permitted(address: string, allowed: BlockList): boolean {
  const plain = unmapped(address);
  return !isPrivateAddress(plain) || allowed.check(plain, familyOf(plain));
}

function guardedLookup(allowed: BlockList): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const usable = addresses.filter((entry) => permitted(entry.address, allowed));
      if (usable.length === 0) return callback(new OutboundRefused('the address is in a private network'), '', 0);
      if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}

export interface OutboundOptions {
  /** Private networks that may be reached anyway. */
  allowed: BlockList;
  timeoutMs: number;
  /** Longest answer body kept (the rest is read away). */
  maxResponseBytes?: number;
}

interface GuardedRequest {
  method: 'GET' | 'POST';
  body?: Buffer;
  headers: Record<string, string>;
}

/** Answers over this are an error when downloading a file; a POST's answer is only cut short. */
export class ResponseTooLarge extends Error {}

/** Resolves with the status and (the start of) the answer, rejects on network errors, timeouts and refused addresses. */
function requestGuarded(url: string, request: GuardedRequest, options: OutboundOptions & { tooLarge: 'cut' | 'fail' }): Promise<{ status: number; data: Buffer }> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !permitted(host, options.allowed)) return Promise.reject(new OutboundRefused('the address is in a private network'));
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const maxBytes = options.maxResponseBytes ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    const outgoing = send(
      target,
      {
        method: request.method,
        headers: { ...(request.body && { 'content-length': String(request.body.length) }), 'user-agent': 'Charla', ...request.headers },
        timeout: options.timeoutMs,
        lookup: guardedLookup(options.allowed),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = (): void => {
          clearTimeout(deadline);
          resolve({ status: response.statusCode ?? 0, data: Buffer.concat(chunks).subarray(0, maxBytes) });
        };
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size <= maxBytes) return;
          if (options.tooLarge === 'fail') return outgoing.destroy(new ResponseTooLarge(`the answer is over ${maxBytes} bytes`));
          // Enough of the answer: a receiver that goes on talking does not hold the delivery.
          finish();
          outgoing.destroy();
        });
        response.on('end', finish);
        response.on('error', reject);
      },
    );
    // The whole exchange, not only each silence, has a deadline: a trickling answer cannot keep a delivery going.
    const deadline = setTimeout(() => outgoing.destroy(new Error(`no answer within ${options.timeoutMs / 1000} s`)), options.timeoutMs);
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${options.timeoutMs / 1000} s`)));
    outgoing.on('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    outgoing.end(request.body);
  });
}

/** What commands and jobs use: the configured policy, once. */
export interface OutboundClient {
  /** POSTs `body`; the answer's text is cut at 64 KB. */
  post(url: string, request: { body: Buffer; headers: Record<string, string> }, options: { timeoutMs: number }): Promise<{ status: number; body: string }>;
  /** GETs a file; rejects with ResponseTooLarge past `maxBytes`. */
  download(url: string, options: { timeoutMs: number; maxBytes: number }): Promise<{ status: number; data: Buffer }>;
}

export function createOutboundClient(allowedEntries: readonly string[]): OutboundClient {
  const allowed = allowedNetworks(allowedEntries);
  return {
    post: async (url, request, { timeoutMs }) => {
      const { status, data } = await requestGuarded(url, { method: 'POST', ...request }, { allowed, timeoutMs, tooLarge: 'cut' });
      return { status, body: data.toString('utf8') };
    },
    download: (url, { timeoutMs, maxBytes }) => requestGuarded(url, { method: 'GET', headers: {} }, { allowed, timeoutMs, maxResponseBytes: maxBytes, tooLarge: 'fail' }),
  };
}

// POSTs automation's JSON to an administrator's address. Unless the configuration allows it, the
// address may not lead to loopback, private or link-local networks — checked on the address the
// connection really uses, so a name that resolves there (or changes to) is refused too.
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
] as const) {
  PRIVATE_NETWORKS.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  PRIVATE_NETWORKS.addSubnet(network, prefix, 'ipv6');
}

export class WebhookRefused extends Error {}

export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return PRIVATE_NETWORKS.check(mapped, 'ipv4');
  const family = isIP(address);
  return family === 0 || PRIVATE_NETWORKS.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    const allowed = addresses.filter((entry) => !isPrivateAddress(entry.address));
    if (allowed.length === 0) return callback(new WebhookRefused('the webhook address is in a private network'), '', 0);
    if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, allowed);
    callback(null, allowed[0]!.address, allowed[0]!.family);
  });
};

export interface PostJsonOptions {
  allowPrivateNetworks: boolean;
  timeoutMs: number;
}

/** The response's status; throws on network errors, timeouts and refused addresses. */
export function postJson(url: string, body: unknown, { allowPrivateNetworks, timeoutMs }: PostJsonOptions): Promise<number> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivateNetworks && isIP(host) !== 0 && isPrivateAddress(host)) {
    return Promise.reject(new WebhookRefused('the webhook address is in a private network'));
  }
  const payload = Buffer.from(JSON.stringify(body));
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': payload.length, 'user-agent': 'Charla-Automation' },
        timeout: timeoutMs,
        ...(!allowPrivateNetworks && { lookup: publicOnlyLookup }),
      },
      (response) => {
        // The answer's body is of no use; read it away so the socket is freed.
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`the webhook did not answer within ${timeoutMs / 1000} s`)));
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

// Identity verification for the web widget: a site's backend signs its user id with the inbox's
// secret (hex HMAC-SHA256), so a visitor cannot claim to be somebody else by sending an id.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The hash a site's backend computes for `identifier` (what the widget sends as identifierHash). */
export function identifierHash(identifier: string, secret: string): string {
  return createHmac('sha256', secret).update(identifier, 'utf8').digest('hex');
}

/** Whether `hash` is the HMAC of `identifier` with `secret`, compared in constant time. */
export function isIdentifierHashValid(identifier: string, hash: string | null | undefined, secret: string): boolean {
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/i.test(hash)) return false;
  const expected = Buffer.from(identifierHash(identifier, secret), 'hex');
  const given = Buffer.from(hash, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// Opaque bearer tokens: random bytes with a prefix that says what they are. Only their SHA-256 is
// stored, so a database leak does not hand out sessions.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

export const TOKEN_PREFIX = { session: 'chs_', api: 'cha_', visitor: 'chv_' } as const;
export type TokenKind = keyof typeof TOKEN_PREFIX;

export function newToken(kind: TokenKind): { token: string; hash: string } {
  const token = TOKEN_PREFIX[kind] + randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function kindOfToken(token: string): TokenKind | undefined {
  return (Object.keys(TOKEN_PREFIX) as TokenKind[]).find((kind) => token.startsWith(TOKEN_PREFIX[kind]));
}

/** Unguessable public ids (attachments, website tokens, widget source ids). */
export function randomId(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32);
  return `scrypt$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length);
  return timingSafeEqual(actual, expected);
}

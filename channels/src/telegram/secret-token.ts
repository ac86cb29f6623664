// The secret token a Telegram inbox's webhook carries in `X-Telegram-Bot-Api-Secret-Token`: the
// administrator passes it as `secret_token` to setWebhook, Telegram repeats it on every update.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SECRET_TOKEN_HEADER = 'x-telegram-bot-api-secret-token';
/** What setWebhook accepts as secret_token. */
const SECRET_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * The inbox secret itself when Telegram accepts it as a secret_token (Charla's secrets are
 * base64url, so they are), otherwise hex HMAC-SHA256(secret, "telegram") — stable for the secret.
 */
export function telegramSecretToken(inboxSecret: string): string {
  return SECRET_TOKEN_PATTERN.test(inboxSecret) ? inboxSecret : createHmac('sha256', inboxSecret).update('telegram').digest('hex');
}

export function verifySecretToken(expected: string, received: string | undefined): boolean {
  if (!received || !expected) return false;
  // Digests have one length whatever was sent, so the comparison takes the same time.
  return timingSafeEqual(sha256(received), sha256(expected));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

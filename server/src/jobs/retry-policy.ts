// How outbound deliveries (channel messages, account webhooks) are tried again: a failure that
// may pass waits DELIVERY_RETRY_BASE_SECONDS, then twice as long each time, MAX_DELIVERY_ATTEMPTS
// tries in all — nine waits, about 4¼ hours with the default 30 s.
import type { Config } from '../config.ts';

export const MAX_DELIVERY_ATTEMPTS = 10;

/** When try `attempt + 1` is due after try `attempt` failed, or null when that was the last one. */
export function nextAttemptAt(config: Pick<Config, 'deliveryRetryBaseMs'>, attempt: number, now: Date): Date | null {
  if (attempt >= MAX_DELIVERY_ATTEMPTS) return null;
  return new Date(now.getTime() + config.deliveryRetryBaseMs * 2 ** (attempt - 1));
}

export function triesText(attempt: number): string {
  return `after ${attempt} ${attempt === 1 ? 'try' : 'tries'}`;
}

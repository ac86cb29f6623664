// How fast one visitor may write through the widget. A person types at most a message every
// second or two, sometimes a quick burst of short lines; a script floods. Each visitor has a token
// bucket: VISITOR_MESSAGE_BURST messages at once, refilled at VISITOR_MESSAGES_PER_MINUTE (defaults
// 20 and 60: a human never notices, a flood is cut to one message a second). The API channel is not
// limited here: its caller is an administrator's integration relaying many people at once.
import type { Types } from 'mongoose';
import { AppError } from '../errors.ts';
import type { Services } from '../services.ts';

// Bounds memory under a flood of new visitors. A visitor evicted while idle loses nothing (their
// bucket was full again); one evicted mid-flood merely starts over with a fresh burst.
const MAX_TRACKED_VISITORS = 50_000;

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly maxKeys = MAX_TRACKED_VISITORS,
  ) {}

  /** Takes one token for `key`; when none is left answers the seconds until one is. O(1). */
  take(key: string, now: number): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const bucket = this.buckets.get(key);
    const tokens = bucket ? Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond) : this.burst;
    if (tokens < 1) {
      bucket!.tokens = tokens;
      bucket!.at = now;
      return { allowed: false, retryAfterSeconds: Math.ceil((1 - tokens) / this.perSecond) };
    }
    // Re-inserting keeps the Map in order of last use, so the first key is the idlest one.
    this.buckets.delete(key);
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return { allowed: true };
  }

  get size(): number {
    return this.buckets.size;
  }
}

const limiters = new WeakMap<Services, TokenBuckets | null>();

function limiterFor(services: Services): TokenBuckets | null {
  let limiter = limiters.get(services);
  if (limiter === undefined) {
    const { visitorMessageBurst, visitorMessagesPerMinute } = services.config;
    limiter = visitorMessagesPerMinute > 0 ? new TokenBuckets(visitorMessageBurst, visitorMessagesPerMinute / 60) : null;
    limiters.set(services, limiter);
  }
  return limiter;
}

/** Refuses a visitor's message with widget/rate_limited when they write faster than allowed. */
export function assertVisitorMayWrite(services: Services, contactInboxId: Types.ObjectId): void {
  const outcome = limiterFor(services)?.take(String(contactInboxId), services.now().getTime());
  if (outcome && !outcome.allowed) {
    throw new AppError('widget/rate_limited', `Too many messages in a short time; try again in ${outcome.retryAfterSeconds} s`, {
      retryAfterSeconds: outcome.retryAfterSeconds,
    });
  }
}

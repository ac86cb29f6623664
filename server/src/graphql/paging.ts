// Relay-style cursors: opaque base64url JSON that resolvers validate before using in a filter.
import type { Types } from 'mongoose';
import { z } from 'zod';
import { parseId } from '../auth/input.ts';
import { invalidInput } from '../errors.ts';
import { MAX_PAGE } from './limits.ts';

export function clampFirst(first: unknown, fallback = 20): number {
  if (first === undefined || first === null) return fallback;
  if (typeof first !== 'number' || !Number.isInteger(first) || first < 1) throw invalidInput('first', 'must be a positive integer');
  return Math.min(first, MAX_PAGE);
}

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Decodes a cursor made by `encodeCursor` and checks its shape; anything else is bad input. */
export function decodeCursor<T>(cursor: unknown, shape: z.ZodType<T>, field = 'after'): T {
  if (typeof cursor !== 'string' || cursor.length > 500) throw invalidInput(field, 'is not a valid cursor');
  try {
    return shape.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw invalidInput(field, 'is not a valid cursor');
  }
}

/** A message list's `before` or `after` (message ids, not opaque cursors); both at once is bad input. */
export function parseMessageCursors(args: { before?: unknown; after?: unknown }): { before: Types.ObjectId | null; after: Types.ObjectId | null } {
  const before = args.before === undefined || args.before === null ? null : parseId(args.before, 'before');
  const after = args.after === undefined || args.after === null ? null : parseId(args.after, 'after');
  if (before && after) throw invalidInput('after', 'page with before or with after, not both');
  return { before, after };
}

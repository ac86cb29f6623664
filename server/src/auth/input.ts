// Client input on its way to a MongoDB filter: ids become ObjectIds, strings stay strings, and
// anything else (an object such as {"$ne": null} where a string belongs) is refused.
import { Types } from 'mongoose';
import { invalidInput } from '../errors.ts';

export function parseId(value: unknown, field = 'id'): Types.ObjectId {
  if (typeof value !== 'string' || !/^[0-9a-f]{24}$/i.test(value)) throw invalidInput(field, 'must be an id');
  return new Types.ObjectId(value);
}

export function parseIds(values: unknown, field = 'ids'): Types.ObjectId[] {
  if (!Array.isArray(values)) throw invalidInput(field, 'must be a list of ids');
  return values.map((value, index) => parseId(value, `${field}[${index}]`));
}

export function parseString(value: unknown, field: string, { max = 10_000, min = 0 } = {}): string {
  if (typeof value !== 'string') throw invalidInput(field, 'must be a string');
  if (value.length > max) throw invalidInput(field, `must be at most ${max} characters`);
  if (value.trim().length < min) throw invalidInput(field, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
  return value;
}

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]{2,}$/;

export function parseEmail(value: unknown, field = 'email'): string {
  const email = parseString(value, field, { max: 254 }).trim().toLowerCase();
  if (!EMAIL.test(email)) throw invalidInput(field, 'is not a valid e-mail address');
  return email;
}

/** For search boxes: the text matched literally, never as a pattern. */
export function literalPattern(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
}

/**
 * JSON values from clients (custom attributes, form values): plain data only, keys that cannot
 * act as operators or paths, bounded size and depth.
 */
export function parsePlainObject(value: unknown, field: string, maxKeys = 50): Record<string, string | number | boolean | null> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidInput(field, 'must be an object');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > maxKeys) throw invalidInput(field, `must have at most ${maxKeys} keys`);
  const result: Record<string, string | number | boolean | null> = {};
  for (const [key, item] of entries) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(key)) throw invalidInput(`${field}.${key}`, 'keys may only use letters, digits, _ and -');
    if (item !== null && !['string', 'number', 'boolean'].includes(typeof item)) {
      throw invalidInput(`${field}.${key}`, 'must be a string, number, boolean or null');
    }
    if (typeof item === 'string' && item.length > 2_000) throw invalidInput(`${field}.${key}`, 'is too long');
    result[key] = item as string | number | boolean | null;
  }
  return result;
}

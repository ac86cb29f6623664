// The pre-chat form a visitor fills in before chatting: values are checked against the inbox's
// fields (required, type, pattern) and fill the contact — name, e-mail and phone, the rest as
// custom attributes.
import { Contact, type ContactDoc, type ContactFields } from '../db/models/contact.ts';
import type { InboxFields } from '../db/models/inbox.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { parseEmail } from '../auth/input.ts';
import { invalidInput, notFound } from '../errors.ts';
import type { Services } from '../services.ts';
import { assignContactEmail } from './submit-email.ts';

/** Patterns run on client text; bounding both sides keeps one check cheap. */
export const MAX_PATTERN_LENGTH = 200;
export const MAX_PATTERN_CHECKED_VALUE_LENGTH = 200;

const PHONE = /^\+?[0-9][0-9 ().-]{3,24}$/;

const CONTACT_FIELDS: Record<string, 'name' | 'email' | 'phone'> = {
  name: 'name',
  fullName: 'name',
  email: 'email',
  emailAddress: 'email',
  phone: 'phone',
  phoneNumber: 'phone',
};

type PreChatField = NonNullable<InboxFields['settings']['preChatForm']>['fields'][number];
type FormValue = string | number | boolean | null;

export interface SubmitPreChatFormProps {
  contact: ContactDoc;
  inbox: Pick<InboxFields, 'settings'>;
  /** Parsed with parsePlainObject: plain keys, scalar values. */
  values: Record<string, FormValue>;
  performedBy: Actor;
  /** Set only what the contact lacks (a session that claimed a known contact by e-mail). */
  onlyFillEmpty?: boolean;
}

export async function submitPreChatForm(services: Services, { contact, inbox, values, onlyFillEmpty = false, performedBy }: SubmitPreChatFormProps): Promise<ContactDoc> {
  const form = inbox.settings?.preChatForm;
  if (!form?.enabled) throw invalidInput('values', 'this inbox has no pre-chat form');
  const fields = form.fields.filter((field) => field.enabled);

  const known = new Set(fields.map((field) => field.name));
  const unknown = Object.keys(values).find((key) => !known.has(key));
  if (unknown !== undefined) throw invalidInput(`values.${unknown}`, 'is not a field of this form');

  const set: Record<string, string | number> = {};
  let email: string | undefined;
  for (const field of fields) {
    const value = checkedValue(field, values[field.name], services);
    if (value === undefined) continue;
    const target = CONTACT_FIELDS[field.name];
    if (target === 'email') email = typeof value === 'string' ? parseEmail(value, `values.${field.name}`) : undefined;
    else if (target) set[target] = String(value);
    else set[`customAttributes.${field.name}`] = value;
  }

  if (onlyFillEmpty) {
    for (const path of Object.keys(set)) if (valueAt(contact, path) !== undefined && valueAt(contact, path) !== '') delete set[path];
  }
  let updated: ContactDoc = contact;
  if (Object.keys(set).length > 0) {
    const written = await Contact.findOneAndUpdate({ _id: contact._id }, { $set: set }, { returnDocument: 'after' });
    if (!written) throw notFound('contact');
    updated = written;
    services.bus.publish('contact.updated', { contact: written.toObject() as Stored<ContactFields>, performedBy });
  }
  if (email !== undefined) updated = await assignContactEmail(services, { contact: updated, email, performedBy });
  return updated;
}

/** The value to store, undefined when left empty; throws input/invalid naming the field. */
function checkedValue(field: PreChatField, raw: FormValue | undefined, services: Services): string | number | undefined {
  const path = `values.${field.name}`;
  const empty = raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '');
  if (empty) {
    if (field.required) throw invalidInput(path, 'is required');
    return undefined;
  }
  if (typeof raw === 'boolean') throw invalidInput(path, 'must be text');

  let value: string | number;
  switch (field.type) {
    case 'email':
      value = parseEmail(String(raw), path);
      break;
    case 'phone':
      value = String(raw).trim();
      if (!PHONE.test(value)) throw invalidInput(path, 'is not a valid phone number');
      break;
    case 'number':
      value = typeof raw === 'number' ? raw : Number(raw.trim());
      if (!Number.isFinite(value)) throw invalidInput(path, 'must be a number');
      break;
    default:
      value = String(raw).trim();
  }

  const pattern = field.regex ?? '';
  if (pattern !== '') {
    if (pattern.length > MAX_PATTERN_LENGTH) {
      services.logger.warn({ field: field.name }, 'pre-chat field pattern is too long to evaluate; ignored');
    } else {
      const text = String(value);
      if (text.length > MAX_PATTERN_CHECKED_VALUE_LENGTH) throw invalidInput(path, `must be at most ${MAX_PATTERN_CHECKED_VALUE_LENGTH} characters`);
      const matcher = compile(pattern);
      if (!matcher) services.logger.warn({ field: field.name }, 'pre-chat field pattern is not a valid regular expression; ignored');
      else if (!matcher.test(text)) throw invalidInput(path, 'does not have the expected format');
    }
  }
  return value;
}

function compile(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

function valueAt(contact: ContactDoc, path: string): unknown {
  if (path.startsWith('customAttributes.')) return (contact.customAttributes as Record<string, unknown> | undefined)?.[path.slice('customAttributes.'.length)];
  return (contact as unknown as Record<string, unknown>)[path] ?? undefined;
}

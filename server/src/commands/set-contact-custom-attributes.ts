// Sets or deletes a contact's custom attributes (the widget SDK's setCustomAttributes and
// deleteCustomAttribute), within a bound on how many a contact carries.
import { Contact, type ContactDoc } from '../db/models/contact.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import type { ContactFields } from '../db/models/contact.ts';
import { invalidInput, notFound } from '../errors.ts';
import type { Services } from '../services.ts';

export const MAX_CUSTOM_ATTRIBUTES = 50;

export interface SetContactCustomAttributesProps {
  contact: ContactDoc;
  /** Checked values (see parsePlainObject); null deletes the key like `unset` does. */
  set: Record<string, string | number | boolean | null>;
  unset?: string[];
  /** Only keys the contact has no value for yet are set, none deleted (an e-mail-claimed session). */
  onlyFillEmpty?: boolean;
  performedBy: Actor;
}

export async function setContactCustomAttributes(services: Services, props: SetContactCustomAttributesProps): Promise<ContactDoc> {
  const current = (props.contact.customAttributes ?? {}) as Record<string, unknown>;
  const has = (key: string): boolean => current[key] !== undefined && current[key] !== null && current[key] !== '';
  const $set: Record<string, string | number | boolean> = {};
  const $unset: Record<string, ''> = {};
  for (const [key, value] of Object.entries(props.set)) {
    if (props.onlyFillEmpty && has(key)) continue;
    if (value === null) $unset[`customAttributes.${key}`] = '';
    else $set[`customAttributes.${key}`] = value;
  }
  for (const key of props.unset ?? []) $unset[`customAttributes.${key}`] = '';
  if (props.onlyFillEmpty) for (const key of Object.keys($unset)) delete $unset[key];

  const after = new Set(Object.keys(current).filter((key) => current[key] !== undefined));
  for (const path of Object.keys($set)) after.add(path.slice('customAttributes.'.length));
  for (const path of Object.keys($unset)) after.delete(path.slice('customAttributes.'.length));
  if (after.size > MAX_CUSTOM_ATTRIBUTES) throw invalidInput('attributes', `a contact has at most ${MAX_CUSTOM_ATTRIBUTES} custom attributes`);
  if (Object.keys($set).length === 0 && Object.keys($unset).length === 0) return props.contact;

  const updated = await Contact.findOneAndUpdate(
    { _id: props.contact._id, accountId: props.contact.accountId },
    { ...(Object.keys($set).length > 0 && { $set }), ...(Object.keys($unset).length > 0 && { $unset }) },
    { returnDocument: 'after' },
  );
  if (!updated) throw notFound('contact');
  services.bus.publish('contact.updated', { contact: updated.toObject() as Stored<ContactFields>, performedBy: props.performedBy });
  return updated;
}

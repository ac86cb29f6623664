// Adds account labels to a contact or removes them (the audiences of one-off campaigns).
import type { Types } from 'mongoose';
import { Contact, type ContactFields } from '../db/models/contact.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { notFound } from '../errors.ts';
import type { Services } from '../services.ts';
import { assertLabelsExist, normaliseLabels } from './change-labels.ts';

export interface ChangeContactLabelsProps {
  accountId: Types.ObjectId;
  contactId: Types.ObjectId;
  labels: string[];
  performedBy: Actor;
}

export async function changeContactLabels(services: Services, props: ChangeContactLabelsProps & { change: 'add' | 'remove' }): Promise<Stored<ContactFields>> {
  const labels = normaliseLabels(props.labels);
  const contact = await Contact.findOne({ _id: props.contactId, accountId: props.accountId }, { labels: 1 }).lean();
  if (!contact) throw notFound('contact');
  await assertLabelsExist(props.accountId, labels, props.change === 'remove' ? contact.labels : []);
  const update = props.change === 'add' ? { $addToSet: { labels: { $each: labels } } } : { $pull: { labels: { $in: labels } } };
  const updated = (await Contact.findOneAndUpdate({ _id: props.contactId, accountId: props.accountId }, update, { returnDocument: 'after' }).lean()) as Stored<ContactFields> | null;
  if (!updated) throw notFound('contact');
  services.bus.publish('contact.updated', { contact: updated, performedBy: props.performedBy });
  return updated;
}

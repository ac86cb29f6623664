// Changing an inbox: its name, channel configuration, HMAC requirement and any subset of its
// settings (what is not given stays as it was).
import type { Types } from 'mongoose';
import { z } from 'zod';
import { Inbox, type InboxDoc } from '../db/models/inbox.ts';
import { notFound } from '../errors.ts';
import type { Actor } from '../events/actor.ts';
import type { Services } from '../services.ts';
import { inboxSettingsInputSchema, nameSchema, parseInput, settingsUpdatePaths } from './admin-input.ts';
import { checkedChannelConfig } from './create-inbox.ts';

export interface UpdateInboxProps {
  accountId: Types.ObjectId;
  inboxId: Types.ObjectId;
  name?: string | null;
  channelConfig?: unknown;
  hmacMandatory?: boolean | null;
  settings?: unknown;
  performedBy: Actor;
}

export async function updateInbox(services: Services, props: UpdateInboxProps): Promise<InboxDoc> {
  const set: Record<string, unknown> = {};
  if (props.name != null) set.name = parseInput(nameSchema(100), props.name, 'name');
  if (props.channelConfig != null) {
    const current = await Inbox.findOne({ _id: props.inboxId, accountId: props.accountId }, { channelType: 1 }).lean();
    if (!current) throw notFound('inbox');
    set.channelConfig = checkedChannelConfig(current.channelType, props.channelConfig);
  }
  if (props.hmacMandatory != null) set.hmacMandatory = parseInput(z.boolean(), props.hmacMandatory, 'hmacMandatory');
  if (props.settings != null) Object.assign(set, settingsUpdatePaths(parseInput(inboxSettingsInputSchema, props.settings, 'settings')));

  const inbox =
    Object.keys(set).length > 0
      ? await Inbox.findOneAndUpdate({ _id: props.inboxId, accountId: props.accountId }, { $set: set }, { returnDocument: 'after', runValidators: true })
      : await Inbox.findOne({ _id: props.inboxId, accountId: props.accountId });
  if (!inbox) throw notFound('inbox');
  services.bus.publish('settings.changed', { accountId: props.accountId, entity: 'inbox', id: inbox._id, action: 'updated', performedBy: props.performedBy });
  return inbox;
}

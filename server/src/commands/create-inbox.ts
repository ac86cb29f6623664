// A new inbox: a channel of the account with its settings. Web widget inboxes get the public
// website token their snippet uses; every inbox gets a secret for identity verification (HMAC).
import type { Types } from 'mongoose';
import { z } from 'zod';
import { adapterFor } from '@charla/channels';
import { randomId } from '../auth/tokens.ts';
import { parsePlainObject } from '../auth/input.ts';
import { Inbox, type ChannelType, type InboxDoc } from '../db/models/inbox.ts';
import type { Actor } from '../events/actor.ts';
import type { Services } from '../services.ts';
import { inboxSettingsInputSchema, nameSchema, parseInput } from './admin-input.ts';
import { agentsOfAccount } from './set-inbox-members.ts';

export interface CreateInboxProps {
  accountId: Types.ObjectId;
  name: string;
  channelType: ChannelType;
  /** Channel-specific configuration; flat JSON. */
  channelConfig?: unknown;
  hmacMandatory?: boolean;
  /** Partial settings; what is missing takes the defaults. Validated here. */
  settings?: unknown;
  memberIds?: Types.ObjectId[];
  performedBy: Actor;
}

export async function createInbox(services: Services, props: CreateInboxProps): Promise<InboxDoc> {
  const name = parseInput(nameSchema(100), props.name, 'name');
  const settings = withoutUndefined(parseInput(inboxSettingsInputSchema, props.settings ?? {}, 'settings'));
  const channelConfig = checkedChannelConfig(props.channelType, props.channelConfig ?? {});
  const hmacMandatory = parseInput(z.boolean(), props.hmacMandatory ?? false, 'hmacMandatory');
  const memberIds = await agentsOfAccount(props.accountId, props.memberIds ?? [], 'memberIds');

  const inbox = await Inbox.create({
    accountId: props.accountId,
    name,
    channelType: props.channelType,
    channelConfig,
    ...(props.channelType === 'web_widget' && { websiteToken: randomId() }),
    hmacSecret: randomId(32),
    hmacMandatory,
    memberIds,
    settings,
  });
  services.bus.publish('settings.changed', { accountId: props.accountId, entity: 'inbox', id: inbox._id, action: 'created', performedBy: props.performedBy });
  return inbox;
}

/** The channel configuration, flat JSON, checked by the channel's adapter when it has one. */
export function checkedChannelConfig(channelType: ChannelType, value: unknown): Record<string, unknown> {
  const flat = parsePlainObject(value, 'channelConfig');
  const adapter = adapterFor(channelType);
  return adapter ? (parseInput(adapter.configSchema, flat, 'channelConfig') as Record<string, unknown>) : flat;
}

/** Drops keys whose value is undefined (also inside nested objects), so the model's defaults fill them in. */
export function withoutUndefined<T extends object>(value: T): Partial<T> {
  const entries = Object.entries(value)
    .filter(([, item]) => item !== undefined)
    .map(([key, item]) => [key, isPlainObject(item) ? withoutUndefined(item) : item]);
  return Object.fromEntries(entries) as Partial<T>;
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// Who caused a change. Commands record it on events (and activity messages), listeners use it to
// stop loops: a rule's own actions never trigger that rule again.
import type { Types } from 'mongoose';
import type { Role } from '../db/models/user.ts';

export type Actor =
  | { type: 'agent'; accountId: Types.ObjectId; userId: Types.ObjectId; role: Role; name: string }
  | { type: 'contact'; accountId: Types.ObjectId; contactId: Types.ObjectId; inboxId: Types.ObjectId; contactInboxId: Types.ObjectId }
  | { type: 'rule'; accountId: Types.ObjectId; ruleId: string }
  /** The server itself: a snooze waking up, auto-assignment, start-up. */
  | { type: 'system'; accountId: Types.ObjectId };

export type AgentActor = Extract<Actor, { type: 'agent' }>;
export type ContactActor = Extract<Actor, { type: 'contact' }>;

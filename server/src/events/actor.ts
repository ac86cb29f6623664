// Who caused a change. Commands record it on events (and activity messages), listeners use it to
// stop loops: a rule's own actions never trigger that rule again.
import type { Types } from 'mongoose';
import type { Role } from '../db/models/user.ts';

export type Actor =
  | { type: 'agent'; accountId: Types.ObjectId; userId: Types.ObjectId; role: Role; name: string }
  | { type: 'contact'; accountId: Types.ObjectId; contactId: Types.ObjectId; inboxId: Types.ObjectId; contactInboxId: Types.ObjectId }
  /**
   * A rule's action. `depth` counts rule actions caused by rule actions (1 = a person's or the
   * contact's event triggered it); automation stops past a bound, and a rule never triggers itself.
   */
  | { type: 'rule'; accountId: Types.ObjectId; ruleId: string; ruleSetKey?: string; depth?: number }
  /** The server itself: a snooze waking up, auto-assignment, start-up. */
  | { type: 'system'; accountId: Types.ObjectId };

export type AgentActor = Extract<Actor, { type: 'agent' }>;
export type ContactActor = Extract<Actor, { type: 'contact' }>;

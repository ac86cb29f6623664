// Idempotent sends: a client names each message it sends (`clientMessageId`, unique per
// conversation), so a retry after a lost answer — a dropped socket, a restarted server — returns
// the stored message instead of storing it twice.
import type { Types } from 'mongoose';
import { Message, type MessageFields } from '../db/models/message.ts';
import { AppError, invalidInput } from '../errors.ts';
import type { Stored } from '../events/event-map.ts';

export const MAX_CLIENT_MESSAGE_ID_LENGTH = 100;
// UUIDs, nanoids, "tab-3-17": nothing that needs escaping anywhere.
const CLIENT_MESSAGE_ID = /^[A-Za-z0-9._:-]+$/;

export function parseClientMessageId(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidInput('clientMessageId', 'must be a string');
  if (value.length === 0 || value.length > MAX_CLIENT_MESSAGE_ID_LENGTH) throw invalidInput('clientMessageId', `must be 1 to ${MAX_CLIENT_MESSAGE_ID_LENGTH} characters`);
  if (!CLIENT_MESSAGE_ID.test(value)) throw invalidInput('clientMessageId', 'may hold only letters, digits and . _ : -');
  return value;
}

export interface RetriedSend {
  conversationId: Types.ObjectId;
  clientMessageId: string;
  sender: { type: string; id?: Types.ObjectId | null };
  content: string;
}

/**
 * The message an earlier send with this client id stored, or null when there is none. The same id
 * from another sender, or with other content, is a client bug, not a retry: refused.
 */
export async function findRetriedMessage(send: RetriedSend): Promise<Stored<MessageFields> | null> {
  const stored = (await Message.findOne({ conversationId: send.conversationId, clientMessageId: send.clientMessageId }).lean()) as Stored<MessageFields> | null;
  if (!stored) return null;
  const sameSender = stored.sender?.type === send.sender.type && String(stored.sender?.id ?? '') === String(send.sender.id ?? '');
  // A tombstone (deleted since) lost its content; the sender alone decides then.
  const deleted = (stored.contentAttributes as { deleted?: unknown } | null)?.deleted === true;
  if (!sameSender || (!deleted && stored.content !== send.content)) {
    throw new AppError('message/client_message_id_conflict', 'This clientMessageId already names another message of the conversation; use a new id for a new message', {
      clientMessageId: send.clientMessageId,
    });
  }
  return stored;
}

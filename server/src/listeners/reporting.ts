// Records the durations reports are made of, as `reportingEvents`:
// * first_response — the first agent reply of a conversation: seconds since it was created (once);
// * reply_time — an agent reply to a waiting contact: seconds since the contact's first message
//   after the previous agent reply (what `waitingSince` held before this reply cleared it);
// * conversation_resolved — seconds from creation to each resolution.
import type { Types } from 'mongoose';
import type { ConversationFields } from '../db/models/conversation.ts';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import { Message, type MessageFields } from '../db/models/message.ts';
import { ReportingEvent, type ReportingEventFields } from '../db/models/reporting-event.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import type { Services } from '../services.ts';

// How far back a reply looks for the message that started the wait; a contact rarely writes
// more than a handful of messages before someone answers.
const MAX_MESSAGES_LOOKED_BACK = 200;

type MessageShape = Pick<MessageFields, 'messageType' | 'private' | 'sender'>;

/** A reply a person on the team wrote to the contact (not a note, not the bot). */
function isAgentReply(message: MessageShape): boolean {
  return message.messageType === 'outgoing' && !message.private && message.sender?.type === 'agent';
}

const secondsBetween = (start: Date, end: Date): number => Math.max(0, (end.getTime() - start.getTime()) / 1000);

export function registerReportingListener(services: Services): void {
  services.bus.on('message.created', async ({ message, conversation, performedBy }) => {
    if (!isAgentReply(message) || !isPerson(performedBy)) return;
    await recordFirstResponse(message, conversation);
    await recordReplyTime(message, conversation);
  });

  services.bus.on('conversation.status_changed', async ({ conversation, previousStatus }) => {
    if (conversation.status !== 'resolved' || previousStatus === 'resolved') return;
    // Listeners run right after the command, so "now" is when it was resolved.
    await ReportingEvent.create(
      eventFor(conversation, 'conversation_resolved', conversation.createdAt, services.now(), conversation.assigneeId ?? null),
    );
  });
}

// Automation posting as an agent (a campaign's first message) is not the team responding.
function isPerson(actor: Actor): boolean {
  return actor.type === 'agent';
}

async function recordFirstResponse(message: Stored<MessageFields>, conversation: Stored<ConversationFields>): Promise<void> {
  if (await ReportingEvent.exists({ conversationId: conversation._id, name: 'first_response' })) return;
  try {
    await ReportingEvent.create(eventFor(conversation, 'first_response', conversation.createdAt, message.createdAt, message.sender?.id ?? null));
  } catch (error) {
    // Two replies at once: the unique index keeps the first.
    if (!isDuplicateKey(error)) throw error;
  }
}

async function recordReplyTime(reply: Stored<MessageFields>, conversation: Stored<ConversationFields>): Promise<void> {
  const earlier = await Message.find(
    { conversationId: conversation._id, _id: { $lt: reply._id } },
    { messageType: 1, private: 1, sender: 1, createdAt: 1 },
  )
    .sort({ _id: -1 })
    .limit(MAX_MESSAGES_LOOKED_BACK)
    .lean();
  let waitingSince: Date | undefined;
  for (const message of earlier) {
    if (isAgentReply(message)) break;
    if (message.messageType === 'incoming') waitingSince = message.createdAt;
  }
  if (!waitingSince) return;
  await ReportingEvent.create(eventFor(conversation, 'reply_time', waitingSince, reply.createdAt, reply.sender?.id ?? null));
}

function eventFor(
  conversation: Stored<ConversationFields>,
  name: ReportingEventFields['name'],
  start: Date,
  end: Date,
  userId: Types.ObjectId | null,
): Omit<ReportingEventFields, 'createdAt' | 'updatedAt'> {
  return {
    accountId: conversation.accountId,
    name,
    value: secondsBetween(start, end),
    conversationId: conversation._id,
    inboxId: conversation.inboxId,
    userId,
    eventStartTime: start,
    eventEndTime: end,
  };
}

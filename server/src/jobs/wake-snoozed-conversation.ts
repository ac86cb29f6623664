// Agenda job 'conversation.wake-snoozed': reopens a snoozed conversation when its time has come.
// Idempotent: a conversation that was reopened, resolved or snoozed again meanwhile is left alone.
import { Types } from 'mongoose';
import { changeConversationStatus } from '../commands/change-conversation-status.ts';
import { Conversation } from '../db/models/conversation.ts';
import type { Services } from '../services.ts';
import { JOB_NAMES } from './scheduler.ts';

export interface WakeSnoozedConversationData {
  conversationId: string;
}

export async function wakeSnoozedConversation(services: Services, data: WakeSnoozedConversationData): Promise<void> {
  if (!Types.ObjectId.isValid(data.conversationId)) return;
  const conversation = await Conversation.findById(data.conversationId).lean();
  if (!conversation || conversation.status !== 'snoozed' || !conversation.snoozedUntil) return;
  // Snoozed again for later: that later time has its own run of this job.
  if (conversation.snoozedUntil.getTime() > services.now().getTime()) return;
  await changeConversationStatus(services, {
    conversation,
    status: 'open',
    onlyFromStatus: 'snoozed',
    performedBy: { type: 'system', accountId: conversation.accountId },
  });
  services.logger.info({ conversationId: data.conversationId }, 'snoozed conversation woke up');
}

export function defineWakeSnoozedConversationJob(services: Services): void {
  services.scheduler.define<WakeSnoozedConversationData>(
    JOB_NAMES.wakeSnoozedConversation,
    (data) => wakeSnoozedConversation(services, data),
    { retries: 3 },
  );
}

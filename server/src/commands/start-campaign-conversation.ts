// A one-off campaign writes first: a new conversation with the contact in the campaign's inbox,
// opened by the campaign's message from its sender. Once per contact and campaign (the unique
// {contactInboxId, campaignId} index); the outbound listener sends the message through the channel.
import { textForLocale, type OneOffCampaign } from '@charla/rules';
import { Types } from 'mongoose';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import type { CampaignFields } from '../db/models/campaign.ts';
import type { ContactInboxFields } from '../db/models/contact-inbox.ts';
import { Conversation, type ConversationFields } from '../db/models/conversation.ts';
import type { InboxFields } from '../db/models/inbox.ts';
import { Message } from '../db/models/message.ts';
import type { Stored } from '../events/event-map.ts';
import type { Services } from '../services.ts';
import { createMessage } from './create-message.ts';
import { latestConversationOf, startConversation } from './receive-incoming-message.ts';

export interface StartCampaignConversationProps {
  campaign: Stored<CampaignFields>;
  inbox: Stored<InboxFields>;
  contactInbox: Stored<ContactInboxFields>;
}

/** 'sent', or 'already' when this contact got the campaign before. */
export async function startCampaignConversation(services: Services, { campaign, inbox, contactInbox }: StartCampaignConversationProps): Promise<'sent' | 'already'> {
  const performedBy = { type: 'system' as const, accountId: inbox.accountId };
  const existing = (await Conversation.findOne({ contactInboxId: contactInbox._id, campaignId: campaign._id }).lean()) as Stored<ConversationFields> | null;
  if (existing) {
    // A run that stopped between the conversation and its message finishes the job.
    if (await Message.exists({ conversationId: existing._id })) return 'already';
    await postCampaignMessage(services, existing, campaign, inbox, performedBy);
    return 'sent';
  }
  const previous = await latestConversationOf(contactInbox._id);
  let started;
  try {
    started = await startConversation(services, inbox, contactInbox, performedBy, previous?._id ?? null, campaign._id);
  } catch (error) {
    // Another run of the campaign got here first (the unique {contactInboxId, campaignId} index).
    if (isDuplicateKey(error)) return 'already';
    throw error;
  }
  // The contact started a conversation at the same moment: the campaign waits for a later run.
  if (!started.created) return 'already';
  const stored = started.conversation.toObject() as Stored<ConversationFields>;
  await postCampaignMessage(services, stored, campaign, inbox, performedBy);
  return 'sent';
}

async function postCampaignMessage(
  services: Services,
  conversation: Stored<ConversationFields>,
  campaign: Stored<CampaignFields>,
  inbox: Stored<InboxFields>,
  performedBy: { type: 'system'; accountId: Types.ObjectId },
): Promise<void> {
  const document = campaign.document as OneOffCampaign;
  const content = textForLocale(document.message, inbox.settings?.locale ?? 'en');
  if (document.sender.type === 'agent') {
    await createMessage(services, { conversation, messageType: 'outgoing', content, sender: { type: 'agent', id: new Types.ObjectId(document.sender.agentId) }, performedBy });
  } else {
    await createMessage(services, { conversation, messageType: 'template', content, sender: { type: 'bot' }, performedBy });
  }
}

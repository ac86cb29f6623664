// Account webhooks: each event an account's webhooks subscribe to becomes a delivery (stored, then
// sent by the 'webhooks.deliver' job, signed and retried). What leaves is a presentation of the
// event, not the stored documents: ids as strings, no secrets.
import type { Types } from 'mongoose';
import type { ContactFields } from '../db/models/contact.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import type { MessageFields } from '../db/models/message.ts';
import { Webhook, WebhookDelivery, type WebhookEvent } from '../db/models/webhook.ts';
import type { Stored } from '../events/event-map.ts';
import { createIdMemo, type IdMemo } from '../db/id-memo.ts';
import { JOB_NAMES } from '../jobs/scheduler.ts';
import type { Services } from '../services.ts';

const id = (value: Types.ObjectId | null | undefined): string | null => (value ? String(value) : null);

export function presentConversation(conversation: Stored<ConversationFields>) {
  return {
    id: String(conversation._id),
    displayId: conversation.displayId,
    inboxId: String(conversation.inboxId),
    contactId: String(conversation.contactId),
    status: conversation.status,
    assigneeId: id(conversation.assigneeId),
    teamId: id(conversation.teamId),
    labels: conversation.labels,
    priority: conversation.priority,
    muted: conversation.muted,
    createdAt: conversation.createdAt,
    lastActivityAt: conversation.lastActivityAt,
  };
}

function presentMessage(message: Stored<MessageFields>) {
  return {
    id: String(message._id),
    conversationId: String(message.conversationId),
    messageType: message.messageType,
    contentType: message.contentType,
    content: message.content,
    private: message.private,
    sender: message.sender ? { type: message.sender.type, id: id(message.sender.id) } : null,
    status: message.status,
    createdAt: message.createdAt,
  };
}

function presentContact(contact: Stored<ContactFields>) {
  return { id: String(contact._id), name: contact.name, email: contact.email ?? null, phone: contact.phone ?? null, customAttributes: contact.customAttributes ?? {} };
}

type WebhookDirectory = IdMemo<Array<{ _id: Types.ObjectId; events: WebhookEvent[] }>>;

async function enqueue(services: Services, directory: WebhookDirectory, accountId: Types.ObjectId, event: WebhookEvent, data: Record<string, unknown>): Promise<void> {
  const webhooks = (await directory.of(accountId)).filter((webhook) => webhook.events.includes(event));
  const now = services.now();
  for (const { _id: webhookId } of webhooks) {
    const delivery = await WebhookDelivery.create({ accountId, webhookId, event, payload: { event, occurredAt: now, ...data }, createdAt: now });
    await services.scheduler.scheduleOnce(JOB_NAMES.deliverWebhook, now, { deliveryId: String(delivery._id), attempt: '1' });
  }
}

export function registerAccountWebhookListeners(services: Services): void {
  // Which of an account's webhooks are on, and for which events: read once per account rather
  // than once per event, and forgotten when an administrator changes the account's webhooks.
  const directory: WebhookDirectory = createIdMemo((accountId) => Webhook.find({ accountId, enabled: true }, { _id: 1, events: 1 }).lean().exec() as ReturnType<WebhookDirectory['of']>);
  services.bus.onEveryNode('settings.changed', ({ accountId, entity }) => {
    if (entity === 'webhook') directory.forget(accountId);
  });
  services.bus.on('conversation.created', ({ conversation }) => enqueue(services, directory, conversation.accountId, 'conversation_created', { conversation: presentConversation(conversation) }));
  services.bus.on('conversation.status_changed', ({ conversation, previousStatus }) =>
    enqueue(services, directory, conversation.accountId, 'conversation_status_changed', { conversation: presentConversation(conversation), previousStatus }),
  );
  services.bus.on('message.created', ({ message, conversation }) =>
    enqueue(services, directory, conversation.accountId, 'message_created', { message: presentMessage(message), conversation: presentConversation(conversation) }),
  );
  services.bus.on('message.updated', ({ message, conversation }) =>
    enqueue(services, directory, conversation.accountId, 'message_updated', { message: presentMessage(message), conversation: presentConversation(conversation) }),
  );
  services.bus.on('contact.updated', ({ contact }) => enqueue(services, directory, contact.accountId, 'contact_updated', { contact: presentContact(contact) }));
}

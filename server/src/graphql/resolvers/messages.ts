// Resolvers for schema/messages.graphql (sendMessage, deleteMessage, the Message type) and the
// canned-response lookup of schema/admin.graphql: parse, authorise (policies), call commands, present.
import type { Types } from 'mongoose';
import { literalPattern, parseId, parseString } from '../../auth/input.ts';
import { deleteMessage } from '../../commands/delete-message.ts';
import { parseAttachmentIds } from '../../commands/claim-attachments.ts';
import { parseClientMessageId } from '../../commands/client-message-id.ts';
import type { AttachmentRef } from '../../commands/create-message.ts';
import { MAX_MESSAGE_LENGTH, sendMessage } from '../../commands/send-message.ts';
import { CannedResponse } from '../../db/models/canned-response.ts';
import { Conversation, type ConversationFields } from '../../db/models/conversation.ts';
import { Message, type MessageFields } from '../../db/models/message.ts';
import { forbidden, invalidInput, notFound } from '../../errors.ts';
import type { Stored } from '../../events/event-map.ts';
import { attachmentUrl } from '../../http/attachments.ts';
import { assertCanSeeConversation, canDeleteMessage, requireAgent } from '../../policies/index.ts';
import { batchedById, loadContact, loadInbox, loadUser } from '../batched-by-id.ts';
import type { GraphQLContext } from '../context.ts';

type StoredMessage = Stored<MessageFields>;

interface SendMessageArgs {
  input: { conversationId: unknown; content: unknown; private?: unknown; attachmentIds?: unknown; inReplyTo?: unknown; clientMessageId?: unknown };
}

export const MAX_CANNED_RESPONSES = 50;
// A search reads at most this many candidates before ranking; an account has far fewer.
const CANNED_RESPONSE_SCAN = 1_000;

export const messagesResolvers = {
  Query: {
    cannedResponses: async (_parent: unknown, args: { search?: unknown }, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const search = args.search === undefined || args.search === null ? '' : parseString(args.search, 'search', { max: 100 }).trim().replace(/^\//, '');
      return rankCannedResponses(agent.accountId, search);
    },
  },

  Mutation: {
    sendMessage: async (_parent: unknown, { input }: SendMessageArgs, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const conversationId = parseId(input.conversationId, 'conversationId');
      const content = parseString(input.content, 'content', { max: MAX_MESSAGE_LENGTH });
      if (input.private !== undefined && input.private !== null && typeof input.private !== 'boolean') throw invalidInput('private', 'must be a boolean');
      const attachmentIds = parseAttachmentIds(input.attachmentIds);
      const inReplyTo = input.inReplyTo === undefined || input.inReplyTo === null ? null : parseId(input.inReplyTo, 'inReplyTo');
      const clientMessageId = parseClientMessageId(input.clientMessageId);

      const conversation = await Conversation.findById(conversationId).lean();
      if (!conversation) throw notFound('conversation');
      await assertCanSeeConversation(agent, conversation);
      return sendMessage(services, {
        conversation: conversation as Stored<ConversationFields>,
        agent,
        content,
        private: input.private === true,
        attachmentIds,
        inReplyTo,
        clientMessageId,
      });
    },

    deleteMessage: async (_parent: unknown, args: { id: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const message = await Message.findById(parseId(args.id)).lean();
      if (!message) throw notFound('message');
      const conversation = await Conversation.findById(message.conversationId, { accountId: 1, inboxId: 1, contactInboxId: 1 }).lean();
      if (!conversation) throw notFound('message');
      await assertCanSeeConversation(agent, conversation);
      if (!canDeleteMessage(agent, message)) throw forbidden('this message');
      return deleteMessage(services, { message: message as StoredMessage, performedBy: agent.actor });
    },
  },

  Message: {
    id: (message: StoredMessage) => String(message._id),
    conversationId: (message: StoredMessage) => String(message.conversationId),
    content: (message: StoredMessage) => message.content ?? '',
    private: (message: StoredMessage) => message.private === true,
    attachments: (message: StoredMessage) => message.attachments ?? [],
    contentAttributes: (message: StoredMessage) => message.contentAttributes ?? {},
    deleted: (message: StoredMessage) => (message.contentAttributes as { deleted?: unknown } | null)?.deleted === true,
    failureReason: (message: StoredMessage) => message.failureReason ?? null,
    sender: (message: StoredMessage) => presentSender(message),
  },

  Attachment: {
    id: (attachment: AttachmentRef) => attachment.id,
    url: (attachment: AttachmentRef, _args: unknown, { services }: GraphQLContext) => attachmentUrl(services, attachment.id),
  },
};

interface PresentedSender {
  type: 'agent' | 'contact' | 'bot';
  id: string | null;
  name: string;
  avatarUrl: string | null;
}

/**
 * Who wrote a message, with the name the console shows: the agent's, the contact's, or the inbox's
 * for the bot. Batched loads: a page of messages costs one query per kind of sender.
 */
async function presentSender(message: StoredMessage): Promise<PresentedSender | null> {
  const sender = message.sender;
  if (!sender) return null;
  const id = sender.id ? String(sender.id) : null;
  if (sender.type === 'agent') {
    const user = sender.id ? await loadUser(sender.id, message.accountId) : null;
    return { type: 'agent', id, name: user?.name ?? '', avatarUrl: null };
  }
  if (sender.type === 'contact') {
    const contactId = sender.id ?? (await loadConversationContact(message.conversationId, message.accountId))?.contactId ?? null;
    const contact = contactId ? await loadContact(contactId, message.accountId, message) : null;
    return { type: 'contact', id: id ?? (contact ? String(contact._id) : null), name: contact?.name ?? '', avatarUrl: contact?.avatarUrl ?? null };
  }
  const inbox = await loadInbox(message.inboxId, message.accountId, message);
  return { type: 'bot', id, name: inbox?.name ?? '', avatarUrl: null };
}

// Contact messages stored without a sender id belong to the conversation's contact.
const loadConversationContact = batchedById((ids) => Conversation.find({ _id: { $in: ids } }, { accountId: 1, contactId: 1 }).lean());

/** Short-code prefix matches first, then short-code substrings, then content matches; literal, case-insensitive. */
async function rankCannedResponses(accountId: Types.ObjectId, search: string) {
  if (search === '') {
    return CannedResponse.find({ accountId }).sort({ shortCode: 1 }).limit(MAX_CANNED_RESPONSES).lean();
  }
  const pattern = literalPattern(search);
  const candidates = await CannedResponse.find({ accountId, $or: [{ shortCode: pattern }, { content: pattern }] })
    .limit(CANNED_RESPONSE_SCAN)
    .lean();
  const needle = search.toLowerCase();
  const rank = (response: { shortCode: string }): number => {
    const code = response.shortCode.toLowerCase();
    if (code.startsWith(needle)) return 0;
    if (code.includes(needle)) return 1;
    return 2;
  };
  return candidates
    .map((response) => ({ response, rank: rank(response) }))
    .sort((a, b) => a.rank - b.rank || a.response.shortCode.localeCompare(b.response.shortCode))
    .slice(0, MAX_CANNED_RESPONSES)
    .map(({ response }) => response);
}

// Resolvers for schema/notifications.graphql: parse, authorise (policies), call commands, present.
// An agent only ever sees their own notifications, and only of conversations they may still see.
import { Types } from 'mongoose';
import { z } from 'zod';
import { parseIds } from '../../auth/input.ts';
import { markNotificationsRead } from '../../commands/mark-notifications-read.ts';
import { Conversation } from '../../db/models/conversation.ts';
import { Message } from '../../db/models/message.ts';
import { Notification, type NotificationFields } from '../../db/models/notification.ts';
import { invalidInput, notFound } from '../../errors.ts';
import type { DomainEvent, Stored } from '../../events/event-map.ts';
import { assertCanSeeConversation, requireAgent, visibleInboxIds } from '../../policies/index.ts';
import type { GraphQLContext } from '../context.ts';
import { clampFirst, decodeCursor, encodeCursor } from '../paging.ts';

type StoredNotification = Stored<NotificationFields>;

const MAX_IDS_PER_CALL = 500;
const cursorShape = z.object({ id: z.string().regex(/^[0-9a-f]{24}$/) });

export const notificationsResolvers = {
  Query: {
    notifications: async (_parent: unknown, args: { first?: unknown; after?: unknown }, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const first = clampFirst(args.first, 25);
      const after = args.after === undefined || args.after === null ? null : decodeCursor(args.after, cursorShape);
      // Keyset on _id (newest first) over the {userId, _id} index.
      const filter = after ? { userId: agent.user._id, _id: { $lt: new Types.ObjectId(after.id) } } : { userId: agent.user._id };
      const page = await Notification.find(filter).sort({ _id: -1 }).limit(first + 1).lean();
      const hasNextPage = page.length > first;
      const fetched = page.slice(0, first);

      // Someone removed from an inbox keeps their notifications but no longer sees those.
      const conversationIds = [...new Set(fetched.map((notification) => String(notification.conversationId)))];
      const [conversations, inboxIds] = await Promise.all([
        Conversation.find({ _id: { $in: conversationIds }, accountId: agent.accountId }, { inboxId: 1 }).lean(),
        visibleInboxIds(agent),
      ]);
      const visibleInboxes = new Set(inboxIds.map(String));
      const visibleConversations = new Set(conversations.filter((c) => visibleInboxes.has(String(c.inboxId))).map((c) => String(c._id)));
      const edges = fetched
        .filter((notification) => visibleConversations.has(String(notification.conversationId)))
        .map((notification) => ({ cursor: encodeCursor({ id: String(notification._id) }), node: notification }));
      const last = fetched.at(-1);
      return {
        edges,
        pageInfo: {
          hasNextPage,
          hasPreviousPage: after !== null,
          startCursor: fetched[0] ? encodeCursor({ id: String(fetched[0]._id) }) : null,
          endCursor: last ? encodeCursor({ id: String(last._id) }) : null,
        },
      };
    },

    unreadNotificationCount: async (_parent: unknown, _args: unknown, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      return Notification.countDocuments({ userId: agent.user._id, readAt: null });
    },
  },

  Mutation: {
    markNotificationsRead: async (_parent: unknown, args: { ids?: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const ids = args.ids === undefined || args.ids === null ? null : parseIds(args.ids, 'ids');
      if (ids && ids.length > MAX_IDS_PER_CALL) throw invalidInput('ids', `at most ${MAX_IDS_PER_CALL} at a time; pass null for all`);
      return markNotificationsRead(services, { userId: agent.user._id, ids });
    },
  },

  Subscription: {
    notificationEvents: {
      subscribe: (_parent: unknown, _args: unknown, { viewer, services }: GraphQLContext) => {
        const agent = requireAgent(viewer);
        const userId = agent.user._id;
        return services.bus.stream((event) => event.name === 'notification.created' && event.payload.notification.userId.equals(userId), [`user:${String(userId)}`]);
      },
      resolve: (event: DomainEvent) => (event.name === 'notification.created' ? event.payload.notification : null),
    },
  },

  Notification: {
    id: (notification: StoredNotification) => String(notification._id),
    conversation: async (notification: StoredNotification, _args: unknown, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const conversation = await Conversation.findById(notification.conversationId).lean();
      if (!conversation) throw notFound('conversation');
      await assertCanSeeConversation(agent, conversation);
      return conversation;
    },
    message: async (notification: StoredNotification, _args: unknown, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      if (!notification.messageId) return null;
      const message = await Message.findOne({ _id: notification.messageId, conversationId: notification.conversationId }).lean();
      if (!message) return null;
      const conversation = await Conversation.findById(message.conversationId, { accountId: 1, inboxId: 1, contactInboxId: 1 }).lean();
      if (!conversation) return null;
      await assertCanSeeConversation(agent, conversation);
      return message;
    },
  },
};

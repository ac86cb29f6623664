// Resolvers for schema/channels.graphql: an integrator, signed in with an administrator's access
// token, brings a contact's message into an API inbox — the same path as the signed webhook
// endpoint. Administrators only: whoever brings messages in speaks for any contact of the inbox.
import { adapterFor, InboundRejected } from '@charla/channels';
import { parseId } from '../../auth/input.ts';
import { channelContext } from '../../channels/context.ts';
import { receiveChannelMessage } from '../../commands/receive-channel-message.ts';
import { Conversation } from '../../db/models/conversation.ts';
import { Inbox } from '../../db/models/inbox.ts';
import { Message } from '../../db/models/message.ts';
import { AppError, invalidInput, notFound } from '../../errors.ts';
import { requireAdministrator } from '../../policies/index.ts';
import type { GraphQLContext } from '../context.ts';

interface ReceiveApiMessageArgs {
  inboxId: unknown;
  input: { contact: Record<string, unknown>; externalId: unknown; content: unknown; attachments?: unknown };
}

export const channelsResolvers = {
  Mutation: {
    receiveApiMessage: async (_parent: unknown, args: ReceiveApiMessageArgs, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      const inbox = await Inbox.findOne({ _id: parseId(args.inboxId, 'inboxId'), accountId: admin.accountId });
      if (!inbox) throw notFound('inbox');
      const adapter = adapterFor(inbox.channelType);
      if (inbox.channelType !== 'api' || !adapter) throw invalidInput('inboxId', 'is not an API inbox');
      const { contact, externalId, content, attachments } = args.input;
      const payload = {
        contact: Object.fromEntries(Object.entries(contact).filter(([, value]) => value !== null && value !== undefined)),
        message: { externalId, content, ...(attachments !== null && attachments !== undefined && { attachments }) },
      };
      let events;
      try {
        events = adapter.parseInbound(payload, channelContext(services, inbox));
      } catch (error) {
        if (error instanceof InboundRejected) throw invalidInput(`input.${error.path.replace(/^message\./, '')}`, error.message);
        throw error;
      }
      const outcome = await receiveChannelMessage(services, { inbox, event: events[0]! });
      if (outcome === 'refused') throw new AppError('contact/blocked', 'This contact is blocked and cannot send messages');
      const message = await Message.findOne({ inboxId: inbox._id, externalId: events[0]!.message.externalId, messageType: 'incoming' }, { conversationId: 1 }).lean();
      const conversation = message ? await Conversation.findById(message.conversationId).lean() : null;
      return { stored: outcome === 'stored', conversation };
    },
  },
};

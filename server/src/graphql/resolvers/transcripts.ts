// Resolver for the agent mutation `sendTranscript` (schema/conversations.graphql): picks the
// recipients — the assignee, the contact and/or another address — and calls the command.
import { parseEmail, parseId } from '../../auth/input.ts';
import { sendTranscript } from '../../commands/send-transcript.ts';
import { Contact } from '../../db/models/contact.ts';
import { Conversation, type ConversationFields } from '../../db/models/conversation.ts';
import { User } from '../../db/models/user.ts';
import { invalidInput, notFound } from '../../errors.ts';
import type { Stored } from '../../events/event-map.ts';
import { assertCanSeeConversation, requireAgent } from '../../policies/index.ts';
import type { GraphQLContext } from '../context.ts';

interface SendTranscriptArgs {
  conversationId: unknown;
  to: { assignee?: unknown; contact?: unknown; email?: unknown } | null;
}

export const transcriptsResolvers = {
  Mutation: {
    sendTranscript: async (_parent: unknown, args: SendTranscriptArgs, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const conversationId = parseId(args.conversationId, 'conversationId');
      const to = args.to ?? {};
      const email = to.email === undefined || to.email === null || to.email === '' ? undefined : parseEmail(to.email, 'to.email');

      const conversation = (await Conversation.findById(conversationId).lean()) as Stored<ConversationFields> | null;
      if (!conversation) throw notFound('conversation');
      await assertCanSeeConversation(agent, conversation);

      const recipients: string[] = [];
      if (to.assignee === true) {
        const assignee = conversation.assigneeId
          ? await User.findOne({ _id: conversation.assigneeId, accountId: conversation.accountId }, { email: 1 }).lean()
          : null;
        if (!assignee?.email) throw invalidInput('to.assignee', 'the conversation has no assigned agent');
        recipients.push(assignee.email);
      }
      if (to.contact === true) {
        const contact = await Contact.findOne({ _id: conversation.contactId, accountId: conversation.accountId }, { email: 1 }).lean();
        if (!contact?.email) throw invalidInput('to.contact', 'the contact has no e-mail address');
        recipients.push(contact.email);
      }
      if (email) recipients.push(email);
      if (recipients.length === 0) throw invalidInput('to', 'choose the assignee, the contact or an e-mail address');

      await sendTranscript(services, { conversation, to: recipients, performedBy: agent.actor });
      return true;
    },
  },
};

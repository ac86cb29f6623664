// The only place that decides who may see or do what. Resolvers call these before any command;
// commands trust their caller's viewer.
import type { Types } from 'mongoose';
import type { AgentViewer, Viewer, VisitorViewer } from '../auth/viewer.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import { Inbox } from '../db/models/inbox.ts';
import type { MessageFields } from '../db/models/message.ts';
import { AppError, forbidden, notFound, unauthenticated } from '../errors.ts';

export function requireAgent(viewer: Viewer): AgentViewer {
  if (viewer.kind === 'agent') return viewer;
  throw viewer.kind === 'anonymous' ? unauthenticated() : forbidden('the agent API');
}

export function requireAdministrator(viewer: Viewer): AgentViewer {
  const agent = requireAgent(viewer);
  if (!agent.isAdministrator) throw forbidden('administration');
  return agent;
}

export function requireVisitor(viewer: Viewer): VisitorViewer {
  if (viewer.kind === 'visitor') return viewer;
  throw viewer.kind === 'anonymous' ? unauthenticated() : forbidden('the visitor API');
}

/** The inboxes an agent works in: all of the account's for administrators, else memberships. */
export async function visibleInboxIds(agent: AgentViewer): Promise<Types.ObjectId[]> {
  const filter = agent.isAdministrator ? { accountId: agent.accountId } : { accountId: agent.accountId, memberIds: agent.user._id };
  const inboxes = await Inbox.find(filter, { _id: 1 }).lean();
  return inboxes.map((inbox) => inbox._id);
}

export async function canSeeInbox(agent: AgentViewer, inbox: { _id: Types.ObjectId; accountId: Types.ObjectId; memberIds: Types.ObjectId[] }): Promise<boolean> {
  if (!inbox.accountId.equals(agent.accountId)) return false;
  return agent.isAdministrator || inbox.memberIds.some((id) => id.equals(agent.user._id));
}

type ConversationRef = Pick<ConversationFields, 'accountId' | 'inboxId' | 'contactInboxId'>;

/** Reads an inbox's members (null: no such inbox in that account). Field resolvers pass a batched one. */
export type InboxMembersLookup = (inboxId: Types.ObjectId, accountId: Types.ObjectId) => Promise<{ memberIds: Types.ObjectId[] } | null>;

export async function canSeeConversation(viewer: Viewer, conversation: ConversationRef, inboxMembers?: InboxMembersLookup): Promise<boolean> {
  if (viewer.kind === 'anonymous') return false;
  if (!conversation.accountId.equals(viewer.accountId)) return false;
  if (viewer.kind === 'visitor') return conversation.contactInboxId.equals(viewer.contactInbox._id);
  if (viewer.isAdministrator) return true;
  if (inboxMembers) {
    const inbox = await inboxMembers(conversation.inboxId, conversation.accountId);
    return inbox?.memberIds.some((id) => id.equals(viewer.user._id)) ?? false;
  }
  return (await Inbox.exists({ _id: conversation.inboxId, memberIds: viewer.user._id })) !== null;
}

export async function assertCanSeeConversation(viewer: Viewer, conversation: ConversationRef, inboxMembers?: InboxMembersLookup): Promise<void> {
  if (viewer.kind === 'anonymous') throw unauthenticated();
  if (!(await canSeeConversation(viewer, conversation, inboxMembers))) throw forbidden('this conversation');
}

/** Visitors see what was said to them: never private notes, never activity lines. */
export function visibleToVisitor(message: Pick<MessageFields, 'private' | 'messageType'>): boolean {
  return !message.private && message.messageType !== 'activity';
}

/** Messages an agent may delete: their own replies and notes, bot/template messages; never the visitor's. */
export function canDeleteMessage(agent: AgentViewer, message: Pick<MessageFields, 'messageType' | 'sender'>): boolean {
  if (message.messageType === 'incoming' || message.messageType === 'activity') return false;
  if (agent.isAdministrator) return true;
  return message.sender?.type !== 'agent' || (message.sender.id?.equals(agent.user._id) ?? false);
}

/**
 * Account-wide records (inboxes, agents, teams, labels, canned responses, contacts) by id: one of
 * the agent's own account, else forbidden (another account's) or not found (none).
 */
export function assertInAgentAccount<T extends { accountId: Types.ObjectId }>(agent: AgentViewer, record: T | null, area: string): T {
  if (!record) throw notFound(area);
  if (!record.accountId.equals(agent.accountId)) throw forbidden(`this ${area.replace(/_/g, ' ')}`);
  return record;
}

/**
 * A widget may run only on the inbox's allowed domains when it lists any ("example.com",
 * "*.example.com"). Requests without an Origin header do not come from a web page, so another
 * site cannot be embedding the widget; they pass.
 */
export function assertWidgetOriginAllowed(allowedDomains: readonly string[], origin: string | undefined): void {
  if (allowedDomains.length === 0 || origin === undefined) return;
  let hostname: string;
  try {
    hostname = new URL(origin).hostname.toLowerCase();
  } catch {
    throw new AppError('widget/origin_not_allowed', 'This website may not use the chat widget');
  }
  const allowed = allowedDomains.some((domain) =>
    domain.startsWith('*.') ? hostname.endsWith(domain.slice(1)) || hostname === domain.slice(2) : hostname === domain,
  );
  if (!allowed) throw new AppError('widget/origin_not_allowed', 'This website may not use the chat widget');
}

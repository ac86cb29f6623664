// Resolvers for schema/conversations.graphql: the conversation list and one conversation, the
// agent's actions on it, and the live `conversationEvents` subscription. They parse, authorise
// (policies), call commands and present; agents see every message, private notes included.
import { Types, type QueryFilter } from 'mongoose';
import { z } from 'zod';
import { literalPattern, parseId, parseString } from '../../auth/input.ts';
import type { AgentViewer } from '../../auth/viewer.ts';
import { assignConversation } from '../../commands/assign-conversation.ts';
import { assignTeam } from '../../commands/assign-team.ts';
import { changeConversationStatus } from '../../commands/change-conversation-status.ts';
import { addLabels, removeLabels } from '../../commands/change-labels.ts';
import { muteConversation, unmuteConversation } from '../../commands/mute-conversation.ts';
import { snoozeUntil, type SnoozeOption } from '../../commands/snooze-time.ts';
import { setConversationPriority } from '../../commands/set-conversation-priority.ts';
import { toggleTyping } from '../../commands/toggle-typing.ts';
import { Contact } from '../../db/models/contact.ts';
import { CONVERSATION_STATUSES, Conversation, PRIORITIES, type ConversationFields, type ConversationStatus } from '../../db/models/conversation.ts';
import { Inbox } from '../../db/models/inbox.ts';
import { Message, type MessageFields } from '../../db/models/message.ts';
import { invalidInput, notFound, forbidden } from '../../errors.ts';
import type { DomainEvent, Stored } from '../../events/event-map.ts';
import { assertCanSeeConversation, canSeeInbox, requireAgent, visibleInboxIds } from '../../policies/index.ts';
import { broughtAlong, loadContact, loadInbox, loadTeam, loadUser } from '../batched-by-id.ts';
import type { GraphQLContext } from '../context.ts';
import { clampFirst, decodeCursor, encodeCursor, parseMessageCursors } from '../paging.ts';

type StoredConversation = Stored<ConversationFields>;

const MAX_LABELS_PER_CALL = 50;
const MAX_SEARCH_LENGTH = 200;
// A search by name or e-mail considers at most this many matching contacts.
const MAX_SEARCH_CONTACTS = 500;
const MAX_PREVIOUS_CONVERSATIONS = 20;
// How long a live subscription trusts the inbox memberships it read (someone may be removed).
const MEMBERSHIP_RECHECK_MS = 30_000;

const listCursorShape = z.object({ t: z.number().int(), id: z.string().regex(/^[0-9a-f]{24}$/) });
const ASSIGNEE_FILTERS = ['MINE', 'UNASSIGNED', 'ALL'] as const;
const STATUS_FILTERS = ['OPEN', 'PENDING', 'SNOOZED', 'RESOLVED', 'ALL'] as const;
const SNOOZE_OPTIONS = ['UNTIL_NEXT_REPLY', 'TOMORROW', 'NEXT_WEEK'] as const;

interface ConversationFilterInput {
  assignee?: unknown;
  status?: unknown;
  inboxId?: unknown;
  teamId?: unknown;
  labels?: unknown;
  search?: unknown;
}

interface ChangeStatusArgs {
  conversationId: unknown;
  status: unknown;
  snooze?: unknown;
  snoozedUntil?: unknown;
}

/** The payload of one `conversationEvents` result (field names as in the schema). */
interface ConversationEventPayload {
  type: 'CONVERSATION_CREATED' | 'CONVERSATION_UPDATED' | 'MESSAGE_CREATED' | 'MESSAGE_UPDATED' | 'TYPING';
  conversation: StoredConversation;
  message: Stored<MessageFields> | null;
  typing: TypingPayload | null;
}

interface TypingPayload {
  on: boolean;
  private: boolean;
  agentId: Types.ObjectId | null;
  accountId: Types.ObjectId;
}

export const conversationsResolvers = {
  Query: {
    conversations: async (
      _parent: unknown,
      args: { filter?: ConversationFilterInput | null; first?: unknown; after?: unknown },
      { viewer, services }: GraphQLContext,
    ) => {
      const agent = requireAgent(viewer);
      const first = clampFirst(args.first, 25);
      const filter = args.filter ?? {};
      const assignee = oneOf(filter.assignee ?? 'ALL', ASSIGNEE_FILTERS, 'filter.assignee');
      const scope = await listScope(agent, filter);

      const mine = { assigneeId: agent.user._id };
      const unassigned = { assigneeId: null };
      const tab = assignee === 'MINE' ? mine : assignee === 'UNASSIGNED' ? unassigned : {};
      const after = args.after === undefined || args.after === null ? null : decodeCursor(args.after, listCursorShape);
      const keyset = after
        ? {
            $or: [
              { lastActivityAt: { $lt: new Date(after.t) } },
              { lastActivityAt: new Date(after.t), _id: { $lt: new Types.ObjectId(after.id) } },
            ],
          }
        : {};

      const count = async () => {
        const [mineCount, unassignedCount, allCount] = await Promise.all([
          Conversation.countDocuments({ ...scope, ...mine }),
          Conversation.countDocuments({ ...scope, ...unassigned }),
          Conversation.countDocuments(scope),
        ]);
        return { mine: mineCount, unassigned: unassignedCount, all: allCount };
      };
      // A search's matches follow contacts' names and e-mails, which the cache does not watch.
      const counting = scope.$or ? count() : services.tabCounts.of(agent.accountId, `${agent.user._id}:${JSON.stringify(scope)}`, count);
      const [page, counts] = await Promise.all([
        Conversation.find({ ...scope, ...tab, ...(after && { $and: [keyset] }) })
          .sort({ lastActivityAt: -1, _id: -1 })
          .limit(first + 1)
          .lean(),
        counting,
      ]);
      const nodes = page.slice(0, first) as StoredConversation[];
      const edges = nodes.map((node) => ({ cursor: listCursor(node), node }));
      return {
        edges,
        pageInfo: {
          hasNextPage: page.length > first,
          hasPreviousPage: after !== null,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
        counts,
      };
    },

    conversation: async (_parent: unknown, args: { id: unknown }, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      return loadVisibleConversation(agent, args.id, 'id');
    },

    conversationByDisplayId: async (_parent: unknown, args: { displayId: unknown }, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      if (typeof args.displayId !== 'number' || !Number.isInteger(args.displayId)) throw invalidInput('displayId', 'must be a whole number');
      const conversation = await Conversation.findOne({ accountId: agent.accountId, displayId: args.displayId }).lean();
      if (!conversation) return null;
      await assertCanSeeConversation(agent, conversation);
      return conversation as StoredConversation;
    },
  },

  Mutation: {
    assignConversation: async (_parent: unknown, args: { conversationId: unknown; agentId?: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const assigneeId = args.agentId === undefined || args.agentId === null ? null : parseId(args.agentId, 'agentId');
      const conversation = await loadVisibleConversation(agent, args.conversationId, 'conversationId');
      return assignConversation(services, { conversation, assigneeId, performedBy: agent.actor });
    },

    assignTeam: async (_parent: unknown, args: { conversationId: unknown; teamId?: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const teamId = args.teamId === undefined || args.teamId === null ? null : parseId(args.teamId, 'teamId');
      const conversation = await loadVisibleConversation(agent, args.conversationId, 'conversationId');
      return assignTeam(services, { conversation, teamId, performedBy: agent.actor });
    },

    addLabels: async (_parent: unknown, args: { conversationId: unknown; labels: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const labels = parseLabels(args.labels, 'labels');
      const conversation = await loadVisibleConversation(agent, args.conversationId, 'conversationId');
      return addLabels(services, { conversation, labels, performedBy: agent.actor });
    },

    removeLabels: async (_parent: unknown, args: { conversationId: unknown; labels: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const labels = parseLabels(args.labels, 'labels');
      const conversation = await loadVisibleConversation(agent, args.conversationId, 'conversationId');
      return removeLabels(services, { conversation, labels, performedBy: agent.actor });
    },

    changeConversationStatus: async (_parent: unknown, args: ChangeStatusArgs, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const status = oneOf(args.status, CONVERSATION_STATUSES, 'status');
      const snoozedUntil = requestedWakeUp(agent, status, args, services.now());
      const conversation = await loadVisibleConversation(agent, args.conversationId, 'conversationId');
      return changeConversationStatus(services, { conversation, status, snoozedUntil, performedBy: agent.actor });
    },

    muteConversation: async (_parent: unknown, args: { id: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const conversation = await loadVisibleConversation(agent, args.id, 'id');
      return muteConversation(services, { conversation, performedBy: agent.actor });
    },

    unmuteConversation: async (_parent: unknown, args: { id: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const conversation = await loadVisibleConversation(agent, args.id, 'id');
      return unmuteConversation(services, { conversation, performedBy: agent.actor });
    },

    setConversationPriority: async (_parent: unknown, args: { conversationId: unknown; priority: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const priority = oneOf(args.priority, PRIORITIES, 'priority');
      const conversation = await loadVisibleConversation(agent, args.conversationId, 'conversationId');
      return setConversationPriority(services, { conversation, priority, performedBy: agent.actor });
    },

    toggleTyping: async (_parent: unknown, args: { conversationId: unknown; on: unknown; private?: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      if (typeof args.on !== 'boolean') throw invalidInput('on', 'must be a boolean');
      if (args.private !== undefined && args.private !== null && typeof args.private !== 'boolean') throw invalidInput('private', 'must be a boolean');
      const conversation = await loadVisibleConversation(agent, args.conversationId, 'conversationId');
      toggleTyping(services, { conversation, on: args.on, private: args.private === true, performedBy: agent.actor });
      return true;
    },
  },

  Subscription: {
    conversationEvents: {
      subscribe: async (_parent: unknown, args: { inboxId?: unknown }, { viewer, services }: GraphQLContext) => {
        const agent = requireAgent(viewer);
        const inboxId = args.inboxId === undefined || args.inboxId === null ? null : parseId(args.inboxId, 'inboxId');
        if (inboxId) await assertCanSeeInboxId(agent, inboxId);
        const stream = services.bus.stream(
          (event) => {
            const conversation = conversationOf(event);
            if (!conversation || !conversation.accountId.equals(agent.accountId)) return false;
            return inboxId === null || conversation.inboxId.equals(inboxId);
          },
          [inboxId ? `inbox:${String(inboxId)}` : `account:${String(agent.accountId)}`],
        );
        return presentedStream(stream, membershipCheck(agent));
      },
      resolve: (payload: ConversationEventPayload) => payload,
    },
  },

  ConversationEvent: {
    message: (event: ConversationEventPayload) => event.message,
    typing: (event: ConversationEventPayload) => event.typing,
  },

  TypingIndicator: {
    agent: (typing: TypingPayload) => (typing.agentId ? loadUser(typing.agentId, typing.accountId) : null),
  },

  Conversation: {
    id: (conversation: StoredConversation) => String(conversation._id),
    inbox: async (conversation: StoredConversation) => {
      const inbox = await loadInbox(conversation.inboxId, conversation.accountId, conversation);
      if (!inbox) throw notFound('inbox');
      return inbox;
    },
    contact: async (conversation: StoredConversation) => {
      const contact = await loadContact(conversation.contactId, conversation.accountId, conversation);
      if (!contact) throw notFound('contact');
      return contact;
    },
    assignee: (conversation: StoredConversation) => (conversation.assigneeId ? loadUser(conversation.assigneeId, conversation.accountId) : null),
    team: (conversation: StoredConversation) => (conversation.teamId ? loadTeam(conversation.teamId, conversation.accountId) : null),
    status: (conversation: StoredConversation) => conversation.status,
    labels: (conversation: StoredConversation) => conversation.labels ?? [],
    priority: (conversation: StoredConversation) => conversation.priority ?? 'none',
    snoozedUntil: (conversation: StoredConversation) => conversation.snoozedUntil ?? null,
    muted: (conversation: StoredConversation) => conversation.muted === true,
    participants: async (conversation: StoredConversation) => {
      const agents = await Promise.all((conversation.participants ?? []).map((id) => loadUser(id, conversation.accountId)));
      return agents.filter((agent) => agent !== null);
    },
    visitorPage: (conversation: StoredConversation) => {
      const visitor = (conversation.additionalAttributes as { visitor?: unknown } | null | undefined)?.visitor;
      return visitor && typeof visitor === 'object' ? visitor : null;
    },

    messages: async (conversation: StoredConversation, args: { first?: unknown; before?: unknown; after?: unknown }, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      // Batched: a page of conversations showing their last message checks their inboxes in one query.
      await assertCanSeeConversation(agent, conversation, loadInbox);
      const first = clampFirst(args.first, 20);
      const { before, after } = parseMessageCursors(args);
      if (after) {
        // Catching up: oldest first over the same index, walked forwards.
        const page = await Message.find({ conversationId: conversation._id, _id: { $gt: after } }).sort({ _id: 1 }).limit(first + 1).lean();
        const edges = page.slice(0, first).map((node) => ({ cursor: String(node._id), node }));
        return {
          edges,
          pageInfo: { hasPreviousPage: true, hasNextPage: page.length > first, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
        };
      }
      // Newest first over the {conversationId, _id} index, then shown oldest first.
      const page = await Message.find({ conversationId: conversation._id, ...(before && { _id: { $lt: before } }) })
        .sort({ _id: -1 })
        .limit(first + 1)
        .lean();
      const nodes = page.slice(0, first).reverse();
      const edges = nodes.map((node) => ({ cursor: String(node._id), node }));
      return {
        edges,
        pageInfo: {
          hasPreviousPage: page.length > first,
          hasNextPage: before !== null,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      };
    },

    previousConversations: async (conversation: StoredConversation, _args: unknown, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      if (!conversation.accountId.equals(agent.accountId)) return [];
      const inboxScope = agent.isAdministrator ? {} : { inboxId: { $in: await visibleInboxIds(agent) } };
      return Conversation.find({ contactId: conversation.contactId, accountId: agent.accountId, _id: { $ne: conversation._id }, ...inboxScope })
        .sort({ lastActivityAt: -1 })
        .limit(MAX_PREVIOUS_CONVERSATIONS)
        .lean();
    },
  },
};

// --- The list -------------------------------------------------------------------------------

/** Everything but the assignee tab: account, visible inboxes, status, team, labels, search. */
async function listScope(agent: AgentViewer, filter: ConversationFilterInput): Promise<QueryFilter<ConversationFields>> {
  const scope: QueryFilter<ConversationFields> = { accountId: agent.accountId };

  if (filter.inboxId !== undefined && filter.inboxId !== null) {
    const inboxId = parseId(filter.inboxId, 'filter.inboxId');
    await assertCanSeeInboxId(agent, inboxId);
    scope.inboxId = inboxId;
  } else if (!agent.isAdministrator) {
    scope.inboxId = { $in: await visibleInboxIds(agent) };
  }

  const status = oneOf(filter.status ?? 'OPEN', STATUS_FILTERS, 'filter.status');
  if (status !== 'ALL') scope.status = status.toLowerCase() as ConversationStatus;

  if (filter.teamId !== undefined && filter.teamId !== null) scope.teamId = parseId(filter.teamId, 'filter.teamId');

  if (filter.labels !== undefined && filter.labels !== null) {
    const labels = parseLabels(filter.labels, 'filter.labels');
    if (labels.length > 0) scope.labels = { $all: labels };
  }

  if (filter.search !== undefined && filter.search !== null) {
    const search = parseString(filter.search, 'filter.search', { max: MAX_SEARCH_LENGTH }).trim();
    if (search !== '') scope.$or = await searchClauses(agent, search);
  }
  return scope;
}

/** "#12" or "12" finds conversation 12; any text finds contacts by name or e-mail, literally. */
async function searchClauses(agent: AgentViewer, search: string): Promise<QueryFilter<ConversationFields>[]> {
  const pattern = literalPattern(search);
  const contacts = await Contact.find({ accountId: agent.accountId, $or: [{ name: pattern }, { email: pattern }] }, { _id: 1 })
    .limit(MAX_SEARCH_CONTACTS)
    .lean();
  const clauses: QueryFilter<ConversationFields>[] = [{ contactId: { $in: contacts.map((contact) => contact._id) } }];
  const number = /^#?(\d{1,9})$/.exec(search);
  if (number) clauses.push({ displayId: Number(number[1]) });
  return clauses;
}

function listCursor(conversation: StoredConversation): string {
  return encodeCursor({ t: conversation.lastActivityAt.getTime(), id: String(conversation._id) });
}

// --- Parsing and authorisation --------------------------------------------------------------

async function loadVisibleConversation(agent: AgentViewer, id: unknown, field: string): Promise<StoredConversation> {
  const conversation = await Conversation.findById(parseId(id, field)).lean();
  if (!conversation) throw notFound('conversation');
  await assertCanSeeConversation(agent, conversation);
  return conversation as StoredConversation;
}

async function assertCanSeeInboxId(agent: AgentViewer, inboxId: Types.ObjectId): Promise<void> {
  const inbox = await Inbox.findById(inboxId, { accountId: 1, memberIds: 1 }).lean();
  if (!inbox) throw notFound('inbox');
  if (!(await canSeeInbox(agent, inbox))) throw forbidden('this inbox');
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw invalidInput(field, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

export function parseLabels(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw invalidInput(field, 'must be a list of label titles');
  if (value.length > MAX_LABELS_PER_CALL) throw invalidInput(field, `at most ${MAX_LABELS_PER_CALL} labels at a time`);
  return value.map((label, index) => parseString(label, `${field}[${index}]`, { max: 100 }).trim().toLowerCase());
}

/** The wake-up time asked for: only with SNOOZED; a preset in the agent's timezone or a custom time. */
function requestedWakeUp(agent: AgentViewer, status: ConversationStatus, args: ChangeStatusArgs, now: Date): Date | null {
  const hasOption = args.snooze !== undefined && args.snooze !== null;
  const hasTime = args.snoozedUntil !== undefined && args.snoozedUntil !== null;
  if (status !== 'snoozed') {
    if (hasOption || hasTime) throw invalidInput(hasOption ? 'snooze' : 'snoozedUntil', 'only applies when the status is SNOOZED');
    return null;
  }
  if (hasOption && hasTime) throw invalidInput('snoozedUntil', 'give either snooze or snoozedUntil, not both');
  if (hasTime) {
    if (!(args.snoozedUntil instanceof Date)) throw invalidInput('snoozedUntil', 'must be a date');
    return args.snoozedUntil;
  }
  if (hasOption) return snoozeUntil(oneOf<SnoozeOption>(args.snooze, SNOOZE_OPTIONS, 'snooze'), agent.user.timezone ?? 'UTC', now);
  return null;
}

// --- Live events ----------------------------------------------------------------------------

function conversationOf(event: DomainEvent): StoredConversation | undefined {
  switch (event.name) {
    case 'conversation.created':
    case 'conversation.updated':
    case 'message.created':
    case 'message.updated':
    case 'conversation.typing':
      return event.payload.conversation;
    default:
      return undefined;
  }
}

function present(event: DomainEvent): ConversationEventPayload | undefined {
  switch (event.name) {
    case 'conversation.created':
      return { type: 'CONVERSATION_CREATED', conversation: event.payload.conversation, message: null, typing: null };
    case 'conversation.updated':
      return { type: 'CONVERSATION_UPDATED', conversation: event.payload.conversation, message: null, typing: null };
    case 'message.created':
      broughtAlong([event.payload.message, event.payload.conversation], [event.payload.contact, event.payload.inbox]);
      return { type: 'MESSAGE_CREATED', conversation: event.payload.conversation, message: event.payload.message, typing: null };
    case 'message.updated':
      return { type: 'MESSAGE_UPDATED', conversation: event.payload.conversation, message: event.payload.message, typing: null };
    case 'conversation.typing': {
      const { conversation, typing, performedBy } = event.payload;
      const agentId = performedBy.type === 'agent' ? performedBy.userId : null;
      return { type: 'TYPING', conversation, message: null, typing: { on: typing, private: event.payload.private, agentId, accountId: conversation.accountId } };
    }
    default:
      return undefined;
  }
}

/** Whether the agent may (still) see an inbox, re-reading memberships every little while. */
function membershipCheck(agent: AgentViewer): (inboxId: Types.ObjectId) => Promise<boolean> {
  if (agent.isAdministrator) return async () => true;
  let visible: Promise<Set<string>> | undefined;
  let readAt = 0;
  return async (inboxId) => {
    if (!visible || Date.now() - readAt > MEMBERSHIP_RECHECK_MS) {
      readAt = Date.now();
      visible = visibleInboxIds(agent).then((ids) => new Set(ids.map(String)));
    }
    return (await visible).has(String(inboxId));
  };
}

/**
 * The bus stream, presented and filtered by the agent's current memberships. A hand-written
 * iterator (not an async generator) so that closing the subscription ends the stream at once,
 * even while it is waiting for the next event.
 */
function presentedStream(
  stream: AsyncIterableIterator<DomainEvent>,
  canSeeInboxNow: (inboxId: Types.ObjectId) => Promise<boolean>,
): AsyncIterableIterator<ConversationEventPayload> {
  const iterator: AsyncIterableIterator<ConversationEventPayload> = {
    async next() {
      for (;;) {
        const result = await stream.next();
        if (result.done) return { value: undefined, done: true };
        const payload = present(result.value);
        if (payload && (await canSeeInboxNow(payload.conversation.inboxId))) return { value: payload, done: false };
      }
    },
    async return() {
      await stream.return?.();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await stream.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

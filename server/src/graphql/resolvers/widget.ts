// Resolvers for schema/widget.graphql, the visitor (web widget) API: parse, authorise (policies),
// call commands, present. Everything that leaves here is shaped for a visitor: no private notes,
// no activity lines, no agent ids or e-mails, only whitelisted content attributes.
import type { Types } from 'mongoose';
import { parseEmail, parseId, parsePlainObject, parseString } from '../../auth/input.ts';
import { hashToken } from '../../auth/tokens.ts';
import { markRepliesSeen } from '../../jobs/email-continuity.ts';
import type { VisitorViewer } from '../../auth/viewer.ts';
import { parseAttachmentIds } from '../../commands/claim-attachments.ts';
import { parseClientMessageId } from '../../commands/client-message-id.ts';
import { acceptsMessages, latestConversationOf, receiveIncomingMessage } from '../../commands/receive-incoming-message.ts';
import { MAX_MESSAGE_LENGTH } from '../../commands/send-message.ts';
import { sendTranscript } from '../../commands/send-transcript.ts';
import { contactActor, startWidgetSession, type VisitorIdentity } from '../../commands/start-widget-session.ts';
import { MAX_CSAT_FEEDBACK_LENGTH, submitCsat } from '../../commands/submit-csat.ts';
import { submitEmail } from '../../commands/submit-email.ts';
import { submitPreChatForm } from '../../commands/submit-pre-chat-form.ts';
import { setContactCustomAttributes } from '../../commands/set-contact-custom-attributes.ts';
import { addLabels, removeLabels } from '../../commands/change-labels.ts';
import { toggleTyping } from '../../commands/toggle-typing.ts';
import { offerCampaign, snoozeCampaigns } from '../../commands/offer-campaign.ts';
import { withoutUndefined } from '../../commands/create-inbox.ts';
import type { VisitorPage } from '../../automation/facts.ts';
import type { Campaign } from '@charla/rules';
import type { ContactFields } from '../../db/models/contact.ts';
import type { ContactInboxFields } from '../../db/models/contact-inbox.ts';
import type { InboxFields } from '../../db/models/inbox.ts';
import { Contact, type ContactDoc } from '../../db/models/contact.ts';
import { ContactInbox, type ContactInboxDoc } from '../../db/models/contact-inbox.ts';
import { Conversation, type ConversationFields } from '../../db/models/conversation.ts';
import { Inbox, type InboxDoc } from '../../db/models/inbox.ts';
import type { InboxDirectory } from '../../db/inbox-directory.ts';
import { Message, type MessageFields } from '../../db/models/message.ts';
import { User } from '../../db/models/user.ts';
import type { ContactActor } from '../../events/actor.ts';
import type { RoutingKey } from '../../events/bus.ts';
import type { DomainEvent, Stored } from '../../events/event-map.ts';
import { AppError, forbidden, invalidInput, notFound, unauthenticated } from '../../errors.ts';
import { translate } from '../../i18n/activity.ts';
import { assertCanSeeConversation, assertWidgetOriginAllowed, requireVisitor, visibleToVisitor } from '../../policies/index.ts';
import { assertVisitorMayWrite } from '../../policies/visitor-message-rate.ts';
import { clampFirst, parseMessageCursors } from '../paging.ts';
import type { GraphQLContext } from '../context.ts';

type StoredMessage = Stored<MessageFields>;
type StoredConversation = Stored<ConversationFields>;
/** What presenting needs of an inbox (a document or a lean read). */
interface InboxLike {
  name: string;
  settings?: { allowMessagesAfterResolved?: boolean | null } | null;
}

/** Content attributes a visitor may read; anything else (mentions, internal data) stays on the server. */
export const VISITOR_CONTENT_ATTRIBUTES = ['submittedEmail', 'deleted', 'inReplyTo', 'items', 'csat', 'display'] as const;

/** Conversation changes a visitor hears about; labels, team or priority are the team's business. */
const VISITOR_CONVERSATION_CHANGES = new Set(['status', 'assignee', 'muted']);

interface CurrentVisitor {
  viewer: VisitorViewer;
  contactInbox: ContactInboxDoc;
  contact: ContactDoc;
  /** From the inbox directory: shared, never changed here. */
  inbox: Stored<InboxFields>;
  actor: ContactActor;
}

export const widgetResolvers = {
  Query: {
    visitorMessages: async (_parent: unknown, args: { before?: unknown; after?: unknown; first?: unknown }, context: GraphQLContext) => {
      const visitor = await currentVisitor(context);
      const first = clampFirst(args.first, 20);
      const { before, after } = parseMessageCursors(args);
      const conversation = await latestConversationOf(visitor.contactInbox._id);
      if (!conversation) return { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } };

      const visible = { conversationId: conversation._id, private: false, messageType: { $ne: 'activity' as const } };
      // Through the {conversationId, _id} index: newest first (then shown oldest first), or — catching up after `after` — oldest first.
      const found = (await Message.find({ ...visible, ...(before && { _id: { $lt: before } }), ...(after && { _id: { $gt: after } }) })
        .sort({ _id: after ? 1 : -1 })
        .limit(first + 1)
        .lean()) as StoredMessage[];
      const more = found.length > first;
      const page = after ? found.slice(0, first) : found.slice(0, first).reverse();
      const presenter = visitorPresenter(visitor.inbox);
      const edges = await Promise.all(page.map(async (message) => ({ cursor: String(message._id), node: await presenter.message(message) })));
      return {
        edges,
        pageInfo: {
          hasNextPage: after ? more : false,
          hasPreviousPage: after ? true : more,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      };
    },

    visitorConversation: async (_parent: unknown, _args: unknown, context: GraphQLContext) => {
      const visitor = await currentVisitor(context);
      const conversation = await latestConversationOf(visitor.contactInbox._id);
      return conversation ? visitorPresenter(visitor.inbox).conversation(conversation.toObject() as StoredConversation) : null;
    },
  },

  Mutation: {
    widgetSession: async (
      _parent: unknown,
      args: { websiteToken: unknown; visitorToken?: unknown; identity?: unknown },
      { services, origin }: GraphQLContext,
    ) => {
      const websiteToken = parseString(args.websiteToken, 'websiteToken', { min: 1, max: 100 });
      const visitorToken = args.visitorToken === undefined || args.visitorToken === null ? undefined : parseString(args.visitorToken, 'visitorToken', { max: 200 });
      const identity = parseIdentity(args.identity);
      const inbox = await Inbox.findOne({ websiteToken, channelType: 'web_widget' });
      if (!inbox) throw notFound('inbox');
      assertWidgetOriginAllowed(inbox.settings.allowedDomains, origin);

      const session = await startWidgetSession(services, { inbox, visitorToken, identity });
      const presenter = visitorPresenter(inbox);
      const conversation = await latestConversationOf(session.contactInbox._id);
      return {
        visitorToken: session.visitorToken,
        contact: presentVisitorContact(session.contact, session.contactInbox),
        config: await presentWidgetConfig(inbox),
        conversation: conversation ? await presenter.conversation(conversation.toObject() as StoredConversation) : null,
      };
    },

    sendVisitorMessage: async (_parent: unknown, args: VisitorMessageArgs, context: GraphQLContext) => {
      return receiveVisitorMessage(context, args, false);
    },

    startNewConversation: async (_parent: unknown, args: VisitorMessageArgs, context: GraphQLContext) => {
      return receiveVisitorMessage(context, args, true);
    },

    pageViewed: async (_parent: unknown, args: { page: unknown }, context: GraphQLContext) => {
      const visitor = await currentVisitor(context);
      const offer = await offerCampaign(context.services, {
        inbox: visitor.inbox,
        contact: visitor.contact.toObject() as Stored<ContactFields>,
        contactInbox: visitor.contactInbox.toObject() as Stored<ContactInboxFields>,
        page: parseVisitorPage(args.page),
        performedBy: visitor.actor,
      });
      if (!offer.campaign) return { campaign: null, nextCheckInSeconds: offer.nextCheckInSeconds };
      const sender = (offer.campaign.document as Campaign).sender;
      const agent = sender.type === 'agent' ? await User.findOne({ _id: sender.agentId, accountId: visitor.inbox.accountId }, { name: 1 }).lean() : null;
      return {
        campaign: {
          id: String(offer.campaign._id),
          message: offer.campaign.text,
          sender: agent ? { type: 'agent', name: agent.name, avatarUrl: null } : { type: 'bot', name: visitor.inbox.name, avatarUrl: null },
        },
        nextCheckInSeconds: null,
      };
    },

    dismissCampaigns: async (_parent: unknown, _args: unknown, context: GraphQLContext) => {
      const visitor = await currentVisitor(context);
      await snoozeCampaigns(context.services, visitor.contactInbox._id);
      return true;
    },

    submitEmail: async (_parent: unknown, args: { messageId: unknown; email: unknown }, context: GraphQLContext) => {
      const visitor = await currentVisitor(context);
      const messageId = parseId(args.messageId, 'messageId');
      const email = parseEmail(args.email, 'email');
      const { message, conversation } = await visitorsMessage(visitor, messageId);
      const updated = await submitEmail(context.services, { message, conversation, email, performedBy: visitor.actor });
      return visitorPresenter(visitor.inbox).message(updated);
    },

    submitPreChatForm: async (_parent: unknown, args: { values: unknown }, context: GraphQLContext) => {
      const visitor = await currentVisitor(context);
      const values = parsePlainObject(args.values, 'values');
      const onlyFillEmpty = visitor.contactInbox.claimedByEmail && !visitor.contactInbox.hmacVerified;
      const contact = await submitPreChatForm(context.services, { contact: visitor.contact, inbox: visitor.inbox, values, onlyFillEmpty, performedBy: visitor.actor });
      return presentVisitorContact(contact, visitor.contactInbox);
    },

    setVisitorCustomAttributes: async (_parent: unknown, args: { attributes: unknown }, context: GraphQLContext) => {
      const visitor = await currentVisitor(context);
      const set = parsePlainObject(args.attributes, 'attributes');
      const contact = await setContactCustomAttributes(context.services, { contact: visitor.contact, set, onlyFillEmpty: claimedOnly(visitor), performedBy: visitor.actor });
      return presentVisitorContact(contact, visitor.contactInbox);
    },

    deleteVisitorCustomAttribute: async (_parent: unknown, args: { key: unknown }, context: GraphQLContext) => {
      const visitor = await currentVisitor(context);
      const key = parseString(args.key, 'key', { min: 1, max: 64 });
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(key)) throw invalidInput('key', 'may only use letters, digits, _ and -');
      const contact = await setContactCustomAttributes(context.services, { contact: visitor.contact, set: {}, unset: [key], onlyFillEmpty: claimedOnly(visitor), performedBy: visitor.actor });
      return presentVisitorContact(contact, visitor.contactInbox);
    },

    addVisitorLabel: async (_parent: unknown, args: { label: unknown }, context: GraphQLContext) => {
      return changeVisitorLabel(context, args.label, 'add');
    },

    removeVisitorLabel: async (_parent: unknown, args: { label: unknown }, context: GraphQLContext) => {
      return changeVisitorLabel(context, args.label, 'remove');
    },

    submitCsat: async (_parent: unknown, args: { messageId: unknown; rating: unknown; feedback?: unknown }, context: GraphQLContext) => {
      const visitor = await currentVisitor(context);
      const messageId = parseId(args.messageId, 'messageId');
      if (typeof args.rating !== 'number' || !Number.isInteger(args.rating) || args.rating < 1 || args.rating > 5) {
        throw invalidInput('rating', 'must be a whole number from 1 to 5');
      }
      const feedback = args.feedback === undefined || args.feedback === null ? undefined : parseString(args.feedback, 'feedback', { max: MAX_CSAT_FEEDBACK_LENGTH });
      const { message, conversation } = await visitorsMessage(visitor, messageId);
      const updated = await submitCsat(context.services, { message, conversation, rating: args.rating, feedback, performedBy: visitor.actor });
      return visitorPresenter(visitor.inbox).message(updated);
    },

    requestTranscript: async (_parent: unknown, _args: unknown, context: GraphQLContext) => {
      const visitor = await currentVisitor(context);
      if (!visitor.contact.email) throw new AppError('contact/email_missing', 'Leave an e-mail address first: the transcript is sent there');
      const conversation = await latestConversationOf(visitor.contactInbox._id);
      if (!conversation) throw notFound('conversation');
      await sendTranscript(context.services, { conversation, to: [visitor.contact.email], performedBy: visitor.actor });
      return true;
    },

    visitorTyping: async (_parent: unknown, args: { on: unknown }, context: GraphQLContext) => {
      const visitor = await currentVisitor(context);
      if (typeof args.on !== 'boolean') throw invalidInput('on', 'must be a boolean');
      const conversation = await latestConversationOf(visitor.contactInbox._id);
      if (!conversation) return false;
      toggleTyping(context.services, { conversation, on: args.on, performedBy: visitor.actor });
      return true;
    },
  },

  Subscription: {
    widgetEvents: {
      subscribe: async (_parent: unknown, _args: unknown, context: GraphQLContext) => {
        const visitor = await currentVisitor(context);
        const contactInboxId = visitor.contactInbox._id;
        const accountId = visitor.inbox.accountId;
        const memberIds = visitor.inbox.memberIds.map(String);
        const conversation = await latestConversationOf(contactInboxId);
        if (conversation) await markRepliesSeen(conversation._id);
        const forVisitor = (event: DomainEvent): boolean =>
          event.name === 'presence.updated'
            ? event.payload.accountId.equals(accountId) && memberIds.includes(String(event.payload.userId))
            : isForVisitor(event, contactInboxId);
        const keys: RoutingKey[] = [`contact-inbox:${String(contactInboxId)}`, `presence:${String(accountId)}`];
        return whilePresent(context.services.bus.stream(forVisitor, keys), context.services.visitorPresence.connect(contactInboxId));
      },
      resolve: async (event: DomainEvent, _args: unknown, context: GraphQLContext) => {
        if (event.name !== 'presence.updated') return presentWidgetEvent(event, context.services.inboxes);
        const visitor = requireVisitor(context.viewer);
        return { type: 'PRESENCE', message: null, conversation: null, typing: null, agentsOnline: await agentsOnlineAfter(event, visitor.inbox._id, context.services.inboxes) };
      },
    },
  },
};

/** The visitor counts as present until their subscription ends, however it ends. */
function whilePresent<T>(events: AsyncIterableIterator<T>, leave: () => void): AsyncIterableIterator<T> {
  return {
    next: () => events.next().then((result) => (result.done && leave(), result)),
    return: (value?: unknown) => (leave(), events.return ? events.return(value) : Promise.resolve({ value: undefined, done: true as const })),
    throw: (error?: unknown) => (leave(), events.throw ? events.throw(error) : Promise.reject(error)),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Authorisation and input

/**
 * The visitor behind this request as stored now: a WebSocket keeps its viewer for the whole
 * connection, so a contact merged meanwhile or a token replaced by a newer session must show.
 */
async function currentVisitor(context: GraphQLContext): Promise<CurrentVisitor> {
  const viewer = requireVisitor(context.viewer);
  const contactInbox = await ContactInbox.findById(viewer.contactInbox._id);
  if (!contactInbox || !context.token || contactInbox.visitorTokenHash !== hashToken(context.token)) throw unauthenticated();
  const [contact, inbox] = await Promise.all([
    Contact.findOne({ _id: contactInbox.contactId, accountId: contactInbox.accountId }),
    context.services.inboxes.of(contactInbox.inboxId, contactInbox.accountId),
  ]);
  if (!contact || !inbox) throw unauthenticated();
  return { viewer, contactInbox, contact, inbox, actor: contactActor(inbox, contactInbox, contact._id) };
}

/** A message the visitor may answer: in one of their own conversations, and one they can see. */
async function visitorsMessage(visitor: CurrentVisitor, messageId: Types.ObjectId): Promise<{ message: StoredMessage; conversation: StoredConversation }> {
  const message = (await Message.findById(messageId).lean()) as StoredMessage | null;
  if (!message) throw notFound('message');
  const conversation = (await Conversation.findById(message.conversationId).lean()) as StoredConversation | null;
  if (!conversation) throw notFound('message');
  await assertCanSeeConversation(visitor.viewer, conversation);
  if (!visibleToVisitor(message)) throw forbidden('this message');
  return { message, conversation };
}

/** A session that claimed a known contact by typing its e-mail (unverified) may only fill gaps. */
function claimedOnly(visitor: CurrentVisitor): boolean {
  return visitor.contactInbox.claimedByEmail === true && !visitor.contactInbox.hmacVerified;
}

async function changeVisitorLabel(context: GraphQLContext, rawLabel: unknown, change: 'add' | 'remove'): Promise<boolean> {
  const visitor = await currentVisitor(context);
  const label = parseString(rawLabel, 'label', { min: 1, max: 255 });
  const conversation = await latestConversationOf(visitor.contactInbox._id);
  if (!conversation) return false;
  const props = { conversation, labels: [label], performedBy: visitor.actor };
  await (change === 'add' ? addLabels(context.services, props) : removeLabels(context.services, props));
  return true;
}

interface VisitorMessageArgs {
  content: unknown;
  clientMessageId?: unknown;
  attachmentIds?: unknown;
  campaignId?: unknown;
  page?: unknown;
}

async function receiveVisitorMessage(context: GraphQLContext, args: VisitorMessageArgs, newConversation: boolean) {
  const visitor = await currentVisitor(context);
  assertVisitorMayWrite(context.services, visitor.contactInbox._id);
  const attachmentIds = parseAttachmentIds(args.attachmentIds);
  const content = parseString(args.content, 'content', { max: MAX_MESSAGE_LENGTH, min: attachmentIds.length > 0 ? 0 : 1 });
  const { message } = await receiveIncomingMessage(context.services, {
    contactInbox: visitor.contactInbox,
    content,
    attachmentIds,
    newConversation,
    clientMessageId: parseClientMessageId(args.clientMessageId),
    campaignId: args.campaignId === undefined || args.campaignId === null ? undefined : parseId(args.campaignId, 'campaignId'),
    visitorPage: args.page === undefined || args.page === null ? undefined : parseVisitorPage(args.page),
    performedBy: visitor.actor,
    loaded: { contact: visitor.contact, inbox: visitor.inbox },
  });
  return visitorPresenter(visitor.inbox).message(message);
}

function parseVisitorPage(value: unknown): VisitorPage {
  const input = parsePlainObject(value, 'page');
  const text = (key: string, max: number): string | undefined =>
    input[key] === undefined || input[key] === null ? undefined : parseString(input[key], `page.${key}`, { max }).trim();
  const seconds = input.timeOnPage;
  if (seconds !== undefined && seconds !== null && (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0 || seconds > 86_400 * 30)) {
    throw invalidInput('page.timeOnPage', 'must be a whole number of seconds');
  }
  return withoutUndefined({
    pageUrl: text('url', 2_048),
    referrer: text('referrer', 2_048),
    timeOnPage: typeof seconds === 'number' ? seconds : undefined,
    locale: text('locale', 20),
    browserLanguage: text('browserLanguage', 40),
  });
}

function parseIdentity(value: unknown): VisitorIdentity | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidInput('identity', 'must be an object');
  const input = value as Record<string, unknown>;
  const optional = <T>(key: string, parse: (raw: unknown) => T): T | undefined =>
    input[key] === undefined || input[key] === null ? undefined : parse(input[key]);
  return {
    identifier: parseString(input.identifier, 'identity.identifier', { min: 1, max: 255 }).trim(),
    identifierHash: optional('identifierHash', (raw) => parseString(raw, 'identity.identifierHash', { max: 128 }).trim()),
    email: optional('email', (raw) => parseEmail(raw, 'identity.email')),
    name: optional('name', (raw) => parseString(raw, 'identity.name', { max: 255 }).trim()),
    phone: optional('phone', (raw) => parseString(raw, 'identity.phone', { max: 40 }).trim()),
    avatarUrl: optional('avatarUrl', (raw) => {
      const url = parseString(raw, 'identity.avatarUrl', { max: 2_048 }).trim();
      if (!/^https?:\/\/\S+$/i.test(url)) throw invalidInput('identity.avatarUrl', 'must be an http(s) URL');
      return url;
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Events

function isForVisitor(event: DomainEvent, contactInboxId: Types.ObjectId): boolean {
  switch (event.name) {
    case 'message.created':
    case 'message.updated':
      return event.payload.conversation.contactInboxId.equals(contactInboxId) && visibleToVisitor(event.payload.message);
    case 'conversation.created':
      return event.payload.conversation.contactInboxId.equals(contactInboxId);
    case 'conversation.updated':
      return event.payload.conversation.contactInboxId.equals(contactInboxId) && event.payload.changes.some((change) => VISITOR_CONVERSATION_CHANGES.has(change));
    case 'conversation.typing':
      // Agents' replies being typed; never a private note, never the visitor's own typing.
      return event.payload.conversation.contactInboxId.equals(contactInboxId) && !event.payload.private && event.payload.performedBy.type === 'agent';
    default:
      return false;
  }
}

async function presentWidgetEvent(event: DomainEvent, inboxes: InboxDirectory) {
  const conversation = 'conversation' in event.payload ? (event.payload.conversation as StoredConversation) : undefined;
  if (!conversation) throw new Error(`widget events carry a conversation; ${event.name} does not`);
  const inbox = (event.name === 'message.created' && event.payload.inbox) || (await inboxes.of(conversation.inboxId));
  if (!inbox) throw notFound('inbox');
  const presenter = visitorPresenter(inbox);
  switch (event.name) {
    case 'message.created':
    case 'message.updated':
      return {
        type: event.name === 'message.created' ? 'MESSAGE_CREATED' : 'MESSAGE_UPDATED',
        message: await presenter.message(event.payload.message),
        conversation: await presenter.conversation(conversation),
        typing: null,
      };
    case 'conversation.typing':
      return { type: 'TYPING', message: null, conversation: await presenter.conversation(conversation), typing: event.payload.typing };
    default:
      return { type: 'CONVERSATION_UPDATED', message: null, conversation: await presenter.conversation(conversation), typing: null };
  }
}

// ---------------------------------------------------------------------------------------------
// Presenting

function visitorPresenter(inbox: InboxLike) {
  const agentNames = new Map<string, Promise<string>>();
  const agentName = (id: Types.ObjectId): Promise<string> => {
    const key = String(id);
    let name = agentNames.get(key);
    if (!name) {
      name = User.findById(id, { name: 1 })
        .lean()
        .then((user) => user?.name ?? inbox.name);
      agentNames.set(key, name);
    }
    return name;
  };

  return {
    async message(message: StoredMessage) {
      // Callers filter already; this is the last line of defence.
      if (!visibleToVisitor(message)) throw forbidden('this message');
      const attributes = (message.contentAttributes ?? {}) as Record<string, unknown>;
      const contentAttributes: Record<string, unknown> = {};
      for (const key of VISITOR_CONTENT_ATTRIBUTES) if (attributes[key] !== undefined) contentAttributes[key] = attributes[key];
      let sender: { type: 'agent' | 'contact' | 'bot'; name: string; avatarUrl: string | null };
      if (message.sender?.type === 'agent' && message.sender.id) {
        sender = { type: 'agent', name: await agentName(message.sender.id), avatarUrl: null };
      } else if (message.sender?.type === 'contact') {
        // The visitor's own messages: the widget shows them as "you". Never the stored contact's
        // name, which may be a known customer this visitor only claimed by typing an e-mail.
        sender = { type: 'contact', name: '', avatarUrl: null };
      } else {
        sender = { type: 'bot', name: inbox.name, avatarUrl: null };
      }
      return {
        id: String(message._id),
        messageType: message.messageType,
        contentType: message.contentType ?? 'text',
        content: message.content ?? '',
        sender,
        // Shaped by the shared Attachment resolvers (download URL).
        attachments: message.attachments ?? [],
        contentAttributes,
        deleted: attributes.deleted === true,
        createdAt: message.createdAt,
      };
    },

    async conversation(conversation: StoredConversation) {
      return {
        id: String(conversation._id),
        status: conversation.status,
        assignee: conversation.assigneeId ? { name: await agentName(conversation.assigneeId), avatarUrl: null } : null,
        canReply: acceptsMessages(conversation, inbox),
        createdAt: conversation.createdAt,
      };
    },
  };
}

/** What a visitor sees of their contact; a session that claimed a known contact by e-mail sees only that e-mail. */
function presentVisitorContact(contact: ContactDoc, contactInbox: Pick<ContactInboxDoc, 'claimedByEmail' | 'hmacVerified'>) {
  const guarded = contactInbox.claimedByEmail && !contactInbox.hmacVerified;
  return {
    id: String(contact._id),
    name: guarded ? '' : (contact.name ?? ''),
    email: contact.email ?? null,
    phone: guarded ? null : (contact.phone ?? null),
  };
}

// An agent coming online reaches every open widget of the account: asked once per event and
// inbox, not once per visitor (with 10,000 widgets open, 40,000 queries made a reply wait seconds).
const onlineAfterEvent = new WeakMap<DomainEvent, Map<string, Promise<boolean>>>();

function agentsOnlineAfter(event: DomainEvent, inboxId: Types.ObjectId, inboxes: InboxDirectory): Promise<boolean> {
  const perInbox = onlineAfterEvent.get(event) ?? new Map<string, Promise<boolean>>();
  onlineAfterEvent.set(event, perInbox);
  let online = perInbox.get(String(inboxId));
  if (!online) {
    online = inboxes.of(inboxId).then((inbox) => (inbox ? anyAgentOnline(inbox) : false));
    perInbox.set(String(inboxId), online);
  }
  return online;
}

async function anyAgentOnline(inbox: Pick<InboxDoc, 'memberIds' | 'accountId'>): Promise<boolean> {
  return (await User.exists({ _id: { $in: inbox.memberIds }, accountId: inbox.accountId, availability: 'online' })) !== null;
}

async function presentWidgetConfig(inbox: InboxDoc) {
  const settings = inbox.settings;
  const locale = settings?.locale ?? 'en';
  const agentsOnline = await anyAgentOnline(inbox);
  return {
    inboxName: inbox.name,
    locale,
    widgetColor: settings?.widgetColor ?? '#1f93ff',
    replyTime: settings?.replyTime ?? 'in_a_few_minutes',
    preChatForm: {
      enabled: settings?.preChatForm?.enabled ?? false,
      message: settings?.preChatForm?.message ?? '',
      fields: (settings?.preChatForm?.fields ?? []).filter((field) => field.enabled),
    },
    csat: {
      enabled: settings?.csat?.enabled ?? false,
      display: settings?.csat?.display ?? 'emoji',
      message: settings?.csat?.message?.trim() || translate(locale, 'csat.message'),
    },
    allowMessagesAfterResolved: settings?.allowMessagesAfterResolved ?? true,
    hmacMandatory: inbox.hmacMandatory ?? false,
    agentsOnline,
  };
}

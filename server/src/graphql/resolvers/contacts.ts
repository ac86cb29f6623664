// Resolvers for schema/contacts.graphql — the contacts list, one contact and the Contact type:
// parse, authorise (policies), present. Contacts are account-wide: every agent of the account
// sees them; their conversations only as far as the agent sees the inbox.
import type { QueryFilter, Types } from 'mongoose';
import { z } from 'zod';
import { literalPattern, parseEmail, parseId, parsePlainObject, parseString } from '../../auth/input.ts';
import { updateContact, type ContactChanges } from '../../commands/update-contact.ts';
import { invalidInput } from '../../errors.ts';
import { changeContactLabels } from '../../commands/change-contact-labels.ts';
import { Contact, type ContactFields } from '../../db/models/contact.ts';
import { parseLabels } from './conversations.ts';
import { Conversation } from '../../db/models/conversation.ts';
import type { Stored } from '../../events/event-map.ts';
import { assertInAgentAccount, requireAgent, visibleInboxIds } from '../../policies/index.ts';
import type { GraphQLContext } from '../context.ts';
import { clampFirst, decodeCursor, encodeCursor } from '../paging.ts';

type StoredContact = Stored<ContactFields>;

/** How many conversations Contact.conversations lists. */
export const CONTACT_CONVERSATIONS_LIMIT = 20;

// Keyset position in the list: newest activity first, ties broken by id.
const contactCursorShape = z.object({ at: z.iso.datetime(), id: z.string().regex(/^[0-9a-f]{24}$/) });

export const contactsResolvers = {
  Mutation: {
    addContactLabels: async (_parent: unknown, args: { contactId: unknown; labels: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const labels = parseLabels(args.labels, 'labels');
      return changeContactLabels(services, { accountId: agent.accountId, contactId: parseId(args.contactId, 'contactId'), labels, change: 'add', performedBy: agent.actor });
    },
    removeContactLabels: async (_parent: unknown, args: { contactId: unknown; labels: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const labels = parseLabels(args.labels, 'labels');
      return changeContactLabels(services, { accountId: agent.accountId, contactId: parseId(args.contactId, 'contactId'), labels, change: 'remove', performedBy: agent.actor });
    },
    updateContact: async (_parent: unknown, args: { id: unknown; input: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const changes = parseContactChanges(args.input);
      const contact = assertInAgentAccount(agent, await Contact.findById(parseId(args.id), { accountId: 1 }).lean(), 'contact');
      return updateContact(services, { accountId: agent.accountId, contactId: contact._id, changes, performedBy: agent.actor });
    },
  },
  Query: {
    contacts: async (_parent: unknown, args: { search?: unknown; first?: unknown; after?: unknown }, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const first = clampFirst(args.first, 25);
      const search = args.search === undefined || args.search === null ? '' : parseString(args.search, 'search', { max: 200 }).trim();

      const filter: QueryFilter<ContactFields> = { accountId: agent.accountId };
      if (search !== '') {
        const pattern = literalPattern(search);
        filter.$or = [{ name: pattern }, { email: pattern }, { phone: pattern }, { identifier: pattern }];
      }
      if (args.after !== undefined && args.after !== null) {
        const cursor = decodeCursor(args.after, contactCursorShape);
        const at = new Date(cursor.at);
        const id = parseId(cursor.id, 'after');
        filter.$and = [{ $or: [{ lastActivityAt: { $lt: at } }, { lastActivityAt: at, _id: { $lt: id } }] }];
      }

      const rows = await Contact.find(filter).sort({ lastActivityAt: -1, _id: -1 }).limit(first + 1).lean();
      const page = rows.slice(0, first);
      const edges = page.map((contact) => ({
        cursor: encodeCursor({ at: lastActivityOf(contact as StoredContact).toISOString(), id: String(contact._id) }),
        node: contact,
      }));
      return {
        edges,
        pageInfo: {
          hasNextPage: rows.length > first,
          hasPreviousPage: args.after !== undefined && args.after !== null,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      };
    },

    contact: async (_parent: unknown, args: { id: unknown }, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      return assertInAgentAccount(agent, await Contact.findById(parseId(args.id)).lean(), 'contact');
    },
  },

  Contact: {
    labels: (contact: StoredContact) => contact.labels ?? [],
    id: (contact: StoredContact) => String(contact._id),
    name: (contact: StoredContact) => contact.name ?? '',
    email: (contact: StoredContact) => contact.email ?? null,
    phone: (contact: StoredContact) => contact.phone ?? null,
    identifier: (contact: StoredContact) => contact.identifier ?? null,
    avatarUrl: (contact: StoredContact) => contact.avatarUrl ?? null,
    customAttributes: (contact: StoredContact) => contact.customAttributes ?? {},
    additionalAttributes: (contact: StoredContact) => contact.additionalAttributes ?? {},
    blocked: (contact: StoredContact) => contact.blocked === true,
    lastActivityAt: (contact: StoredContact) => lastActivityOf(contact),
    conversations: async (contact: StoredContact, _args: unknown, { viewer }: GraphQLContext) => {
      // Contacts reach visitors only as VisitorContact; anyone else sees no conversations here.
      if (viewer.kind !== 'agent' || !contact.accountId.equals(viewer.accountId)) return [];
      const inboxIds: Types.ObjectId[] = await visibleInboxIds(viewer);
      return Conversation.find({ contactId: contact._id, accountId: viewer.accountId, inboxId: { $in: inboxIds } })
        .sort({ lastActivityAt: -1 })
        .limit(CONTACT_CONVERSATIONS_LIMIT)
        .lean()
        .exec();
    },
  },
};

function lastActivityOf(contact: StoredContact): Date {
  return contact.lastActivityAt ?? contact.createdAt;
}

/** The console's contact form: only the fields given; an empty e-mail or phone clears it. */
function parseContactChanges(value: unknown): ContactChanges {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidInput('input', 'must be an object');
  const input = value as Record<string, unknown>;
  const changes: ContactChanges = {};
  if (input.name !== undefined && input.name !== null) changes.name = parseString(input.name, 'input.name', { max: 255 }).trim();
  if (input.email !== undefined) {
    changes.email = input.email === null || (typeof input.email === 'string' && input.email.trim() === '') ? null : parseEmail(input.email, 'input.email');
  }
  if (input.phone !== undefined) {
    const phone = input.phone === null ? '' : parseString(input.phone, 'input.phone', { max: 50 }).trim();
    changes.phone = phone === '' ? null : phone;
  }
  if (input.customAttributes !== undefined && input.customAttributes !== null) {
    changes.customAttributes = parsePlainObject(input.customAttributes, 'input.customAttributes');
  }
  return changes;
}

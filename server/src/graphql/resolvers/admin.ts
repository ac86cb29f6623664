// Resolvers for schema/admin.graphql — inboxes, agents, teams, labels and canned responses (the
// lookup query lives with the messages): parse, authorise (policies), call commands, present.
import { Types } from 'mongoose';
import { parseId, parseIds, parseString } from '../../auth/input.ts';
import { createCannedResponse, deleteCannedResponse, updateCannedResponse } from '../../commands/canned-responses.ts';
import { createAgent } from '../../commands/create-agent.ts';
import { createInbox } from '../../commands/create-inbox.ts';
import { createLabel } from '../../commands/create-label.ts';
import { createTeam } from '../../commands/create-team.ts';
import { setInboxMembers } from '../../commands/set-inbox-members.ts';
import { updateAgent } from '../../commands/update-agent.ts';
import { updateInbox } from '../../commands/update-inbox.ts';
import type { Locale } from '../../db/models/account.ts';
import { CannedResponse, type CannedResponseFields } from '../../db/models/canned-response.ts';
import { CHANNEL_TYPES, Inbox, type ChannelType, type InboxFields } from '../../db/models/inbox.ts';
import { Label, type LabelFields } from '../../db/models/label.ts';
import { Team, type TeamFields } from '../../db/models/team.ts';
import { User, type Role } from '../../db/models/user.ts';
import { forbidden, invalidInput } from '../../errors.ts';
import type { Stored } from '../../events/event-map.ts';
import { assertInAgentAccount, canSeeInbox, requireAdministrator, requireAgent } from '../../policies/index.ts';
import type { GraphQLContext } from '../context.ts';

type StoredInbox = Stored<InboxFields>;
type InboxSettings = InboxFields['settings'];

interface CreateInboxArgs {
  input: { name: unknown; channelType: unknown; channelConfig?: unknown; hmacMandatory?: boolean | null; settings?: unknown };
}
interface UpdateInboxArgs {
  id: unknown;
  input: { name?: unknown; channelConfig?: unknown; hmacMandatory?: boolean | null; settings?: unknown };
}
interface CreateAgentArgs {
  input: { name: unknown; email: unknown; password: unknown; role?: Role | null; timezone?: unknown; locale?: Locale | null };
}
interface UpdateAgentArgs {
  id: unknown;
  input: { name?: unknown; role?: Role | null; timezone?: unknown; locale?: Locale | null; password?: unknown };
}
interface CreateTeamArgs {
  input: { name: unknown; description?: unknown; memberIds?: unknown; allowAutoAssign?: boolean | null };
}
interface CreateLabelArgs {
  input: { title: unknown; description?: unknown; color?: unknown };
}
interface CannedResponseArgs {
  id?: unknown;
  input: { shortCode: unknown; content: unknown };
}

/** A nullable string argument: null/absent stays absent, anything else must be a string. */
const optionalString = (value: unknown, field: string, max: number): string | undefined =>
  value === undefined || value === null ? undefined : parseString(value, field, { max });

export const adminResolvers = {
  Query: {
    inboxes: async (_parent: unknown, _args: unknown, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const filter = agent.isAdministrator ? { accountId: agent.accountId } : { accountId: agent.accountId, memberIds: agent.user._id };
      return Inbox.find(filter).sort({ name: 1 }).limit(1_000).lean().exec();
    },

    inbox: async (_parent: unknown, args: { id: unknown }, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const inbox = assertInAgentAccount(agent, await Inbox.findById(parseId(args.id)).lean(), 'inbox');
      if (!(await canSeeInbox(agent, inbox))) throw forbidden('this inbox');
      return inbox;
    },

    agents: async (_parent: unknown, _args: unknown, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      return User.find({ accountId: agent.accountId }, { passwordHash: 0 }).sort({ name: 1 }).limit(1_000).lean().exec();
    },

    teams: async (_parent: unknown, _args: unknown, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      return Team.find({ accountId: agent.accountId }).sort({ name: 1 }).limit(1_000).lean().exec();
    },

    labels: async (_parent: unknown, _args: unknown, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      return Label.find({ accountId: agent.accountId }).sort({ title: 1 }).limit(1_000).lean().exec();
    },
  },

  Mutation: {
    createInbox: async (_parent: unknown, { input }: CreateInboxArgs, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      if (!CHANNEL_TYPES.includes(input.channelType as ChannelType)) throw invalidInput('channelType', 'is not a channel type');
      return createInbox(services, {
        accountId: admin.accountId,
        name: parseString(input.name, 'name', { max: 100 }),
        channelType: input.channelType as ChannelType,
        channelConfig: input.channelConfig,
        hmacMandatory: input.hmacMandatory ?? false,
        settings: input.settings ?? undefined,
        performedBy: admin.actor,
      });
    },

    updateInbox: async (_parent: unknown, { id, input }: UpdateInboxArgs, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      const inbox = assertInAgentAccount(admin, await Inbox.findById(parseId(id), { accountId: 1 }).lean(), 'inbox');
      return updateInbox(services, {
        accountId: admin.accountId,
        inboxId: inbox._id,
        name: optionalString(input.name, 'name', 100),
        channelConfig: input.channelConfig,
        hmacMandatory: input.hmacMandatory,
        settings: input.settings,
        performedBy: admin.actor,
      });
    },

    setInboxMembers: async (_parent: unknown, args: { inboxId: unknown; agentIds: unknown }, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      const inbox = assertInAgentAccount(admin, await Inbox.findById(parseId(args.inboxId, 'inboxId'), { accountId: 1 }).lean(), 'inbox');
      return setInboxMembers(services, {
        accountId: admin.accountId,
        inboxId: inbox._id,
        agentIds: parseIds(args.agentIds, 'agentIds'),
        performedBy: admin.actor,
      });
    },

    createAgent: async (_parent: unknown, { input }: CreateAgentArgs, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      return createAgent(services, {
        accountId: admin.accountId,
        name: parseString(input.name, 'name', { max: 100 }),
        email: parseString(input.email, 'email', { max: 254 }),
        password: parseString(input.password, 'password', { max: 200 }),
        role: input.role ?? 'agent',
        timezone: optionalString(input.timezone, 'timezone', 64) ?? 'UTC',
        locale: input.locale ?? 'en',
        performedBy: admin.actor,
      });
    },

    updateAgent: async (_parent: unknown, { id, input }: UpdateAgentArgs, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      const agent = assertInAgentAccount(admin, await User.findById(parseId(id), { accountId: 1 }).lean(), 'agent');
      return updateAgent(services, {
        accountId: admin.accountId,
        agentId: agent._id,
        name: optionalString(input.name, 'name', 100),
        role: input.role,
        timezone: optionalString(input.timezone, 'timezone', 64),
        locale: input.locale,
        password: optionalString(input.password, 'password', 200),
        performedBy: admin.actor,
      });
    },

    createTeam: async (_parent: unknown, { input }: CreateTeamArgs, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      return createTeam(services, {
        accountId: admin.accountId,
        name: parseString(input.name, 'name', { max: 100 }),
        description: optionalString(input.description, 'description', 1000),
        memberIds: input.memberIds === undefined || input.memberIds === null ? [] : parseIds(input.memberIds, 'memberIds'),
        allowAutoAssign: input.allowAutoAssign,
        performedBy: admin.actor,
      });
    },

    createLabel: async (_parent: unknown, { input }: CreateLabelArgs, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      return createLabel(services, {
        accountId: admin.accountId,
        title: parseString(input.title, 'title', { max: 100 }),
        description: optionalString(input.description, 'description', 1000),
        color: optionalString(input.color, 'color', 7),
        performedBy: admin.actor,
      });
    },

    createCannedResponse: async (_parent: unknown, { input }: CannedResponseArgs, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      return createCannedResponse(services, {
        accountId: admin.accountId,
        shortCode: parseString(input.shortCode, 'shortCode', { max: 100 }),
        content: parseString(input.content, 'content', { max: 10_000 }),
        performedBy: admin.actor,
      });
    },

    updateCannedResponse: async (_parent: unknown, { id, input }: CannedResponseArgs, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      const existing = assertInAgentAccount(admin, await CannedResponse.findById(parseId(id), { accountId: 1 }).lean(), 'canned_response');
      return updateCannedResponse(services, {
        accountId: admin.accountId,
        cannedResponseId: existing._id,
        shortCode: parseString(input.shortCode, 'shortCode', { max: 100 }),
        content: parseString(input.content, 'content', { max: 10_000 }),
        performedBy: admin.actor,
      });
    },

    deleteCannedResponse: async (_parent: unknown, args: { id: unknown }, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      const existing = assertInAgentAccount(admin, await CannedResponse.findById(parseId(args.id), { accountId: 1 }).lean(), 'canned_response');
      return deleteCannedResponse(services, { accountId: admin.accountId, cannedResponseId: existing._id, performedBy: admin.actor });
    },
  },

  Inbox: {
    id: (inbox: StoredInbox) => String(inbox._id),
    websiteToken: (inbox: StoredInbox) => inbox.websiteToken ?? null,
    hmacMandatory: (inbox: StoredInbox) => inbox.hmacMandatory === true,
    // The secret signs visitor identities: whoever has it can impersonate any visitor.
    channelConfig: (inbox: StoredInbox, _args: unknown, { viewer }: GraphQLContext) =>
      viewer.kind === 'agent' && viewer.isAdministrator && inbox.accountId.equals(viewer.accountId) ? (inbox.channelConfig ?? {}) : null,
    hmacSecret: (inbox: StoredInbox, _args: unknown, { viewer }: GraphQLContext) =>
      viewer.kind === 'agent' && viewer.isAdministrator && inbox.accountId.equals(viewer.accountId) ? inbox.hmacSecret : null,
    members: (inbox: StoredInbox) =>
      User.find({ _id: { $in: inbox.memberIds ?? [] }, accountId: inbox.accountId }, { passwordHash: 0 }).sort({ name: 1 }).lean().exec(),
    settings: (inbox: StoredInbox) => presentInboxSettings(inbox.settings),
  },

  Team: {
    id: (team: Stored<TeamFields>) => String(team._id),
    description: (team: Stored<TeamFields>) => team.description ?? '',
    allowAutoAssign: (team: Stored<TeamFields>) => team.allowAutoAssign !== false,
    members: (team: Stored<TeamFields>) =>
      User.find({ _id: { $in: team.memberIds ?? [] }, accountId: team.accountId }, { passwordHash: 0 }).sort({ name: 1 }).lean().exec(),
  },

  Label: {
    id: (label: Stored<LabelFields>) => String(label._id),
    description: (label: Stored<LabelFields>) => label.description ?? '',
    color: (label: Stored<LabelFields>) => label.color ?? '#1f93ff',
  },

  CannedResponse: {
    id: (cannedResponse: Stored<CannedResponseFields>) => String(cannedResponse._id),
  },
};

let defaultSettings: InboxSettings | undefined;

/** The model's defaults for every inbox setting (for inboxes stored before a setting existed). */
function inboxSettingsDefaults(): InboxSettings {
  defaultSettings ??= new Inbox({ accountId: new Types.ObjectId(), name: 'defaults', channelType: 'api', hmacSecret: 'defaults' }).toObject()
    .settings as InboxSettings;
  return defaultSettings;
}

/** Stored settings over the defaults, as plain data (working hours leave as JSON). */
export function presentInboxSettings(stored: unknown): InboxSettings {
  const plain = (stored && typeof (stored as { toObject?: unknown }).toObject === 'function'
    ? (stored as { toObject(): unknown }).toObject()
    : (stored ?? {})) as Record<string, unknown>;
  const defaults = inboxSettingsDefaults() as unknown as Record<string, unknown>;
  const merged: Record<string, unknown> = {};
  for (const [key, fallback] of Object.entries(defaults)) {
    const value = plain[key];
    const isObjectSetting = fallback !== null && typeof fallback === 'object' && !Array.isArray(fallback);
    merged[key] = value === undefined || value === null ? fallback : isObjectSetting ? { ...fallback, ...(value as object) } : value;
  }
  return merged as unknown as InboxSettings;
}

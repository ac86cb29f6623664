// Resolvers for schema/auth.graphql — sign-in, sign-out, API tokens, availability and the Agent
// type: parse, authorise (policies), call commands, present.
import { parseId, parseString } from '../../auth/input.ts';
import { createAccessToken, revokeAccessToken } from '../../commands/create-access-token.ts';
import { AccessToken } from '../../db/models/access-token.ts';
import { login } from '../../commands/login.ts';
import { logout } from '../../commands/logout.ts';
import { setAvailability } from '../../commands/set-availability.ts';
import { setEmailNotifications } from '../../commands/set-email-notifications.ts';
import { NOTIFICATION_TYPES, type NotificationType } from '../../db/models/notification.ts';
import { AVAILABILITIES, DEFAULT_EMAIL_NOTIFICATIONS, type Availability, type UserFields } from '../../db/models/user.ts';
import { invalidInput, unauthenticated } from '../../errors.ts';
import type { Stored } from '../../events/event-map.ts';
import { requireAgent } from '../../policies/index.ts';
import type { GraphQLContext } from '../context.ts';

type StoredUser = Stored<UserFields>;

export const authResolvers = {
  Query: {
    me: (_parent: unknown, _args: unknown, { viewer }: GraphQLContext) => requireAgent(viewer).user,
    accessTokens: async (_parent: unknown, _args: unknown, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      // Few per agent; the {userId} index finds them.
      return AccessToken.find({ userId: agent.user._id, kind: 'api' }, { name: 1, createdAt: 1, lastUsedAt: 1 }).sort({ _id: -1 }).limit(100).lean();
    },
  },

  AccessToken: {
    id: (token: { _id: unknown }) => String(token._id),
  },

  Mutation: {
    login: async (_parent: unknown, args: { email: unknown; password: unknown }, { services, clientAddress }: GraphQLContext) => {
      const email = parseString(args.email, 'email', { max: 254 });
      const password = parseString(args.password, 'password', { max: 200 });
      const { token, user } = await login(services, { email, password, clientAddress });
      return { token, agent: user };
    },

    logout: async (_parent: unknown, _args: unknown, { viewer, token, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      if (!token) throw unauthenticated();
      return logout(services, { token, userId: agent.user._id, performedBy: agent.actor });
    },

    createAccessToken: async (_parent: unknown, args: { name: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      return createAccessToken(services, { name: parseString(args.name, 'name', { max: 100 }), performedBy: agent.actor });
    },

    revokeAccessToken: async (_parent: unknown, args: { id: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      return revokeAccessToken(services, { id: parseId(args.id), performedBy: agent.actor });
    },

    setAvailability: async (_parent: unknown, args: { status: unknown }, { viewer, services }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      if (!AVAILABILITIES.includes(args.status as Availability)) throw invalidInput('status', 'must be ONLINE, BUSY or OFFLINE');
      return setAvailability(services, { availability: args.status as Availability, performedBy: agent.actor });
    },

    setEmailNotifications: async (_parent: unknown, args: { types: unknown }, { viewer }: GraphQLContext) => {
      const agent = requireAgent(viewer);
      const types = Array.isArray(args.types) ? args.types : [];
      if (types.some((type) => !NOTIFICATION_TYPES.includes(type as NotificationType))) throw invalidInput('types', 'must be notification types');
      return setEmailNotifications({ types: types as NotificationType[], performedBy: agent.actor });
    },
  },

  // Only the fields of the schema leave the server: never the password hash.
  Agent: {
    id: (user: StoredUser) => String(user._id),
    availability: (user: StoredUser) => user.availability ?? 'offline',
    timezone: (user: StoredUser) => user.timezone ?? 'UTC',
    locale: (user: StoredUser) => user.locale ?? 'en',
    emailNotifications: (user: StoredUser) => user.emailNotifications ?? [...DEFAULT_EMAIL_NOTIFICATIONS],
  },
};

// Assembles the GraphQL API once — type definitions from schema/*.graphql, resolvers per area —
// for both the HTTP endpoint and graphql-ws.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { adminResolvers } from './resolvers/admin.ts';
import { authResolvers } from './resolvers/auth.ts';
import { campaignsResolvers } from './resolvers/campaigns.ts';
import { channelsResolvers } from './resolvers/channels.ts';
import { contactsResolvers } from './resolvers/contacts.ts';
import { conversationsResolvers } from './resolvers/conversations.ts';
import { healthResolvers } from './resolvers/health.ts';
import { messagesResolvers } from './resolvers/messages.ts';
import { notificationsResolvers } from './resolvers/notifications.ts';
import { reportsResolvers } from './resolvers/reports.ts';
import { rulesEnumTypeDefs, rulesResolvers } from './resolvers/rules.ts';
import { transcriptsResolvers } from './resolvers/transcripts.ts';
import { webhooksResolvers } from './resolvers/webhooks.ts';
import { widgetResolvers } from './resolvers/widget.ts';
import { DateTime, enumValues, JSONScalar } from './scalars.ts';

const schemaDirectory = fileURLToPath(new URL('./schema/', import.meta.url));

export const typeDefs: string[] = readdirSync(schemaDirectory)
  .filter((file) => file.endsWith('.graphql'))
  .sort()
  .map((file) => readFileSync(new URL(`./schema/${file}`, import.meta.url), 'utf8'))
  // The rule enums come from the rules vocabulary, declared once there.
  .concat(rulesEnumTypeDefs);

export function buildSchema(): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs,
    resolvers: [
      { DateTime, JSON: JSONScalar, ...enumValues },
      // The placeholder subscription ends at once rather than failing as an internal error.
      { Subscription: { _keepAlive: { subscribe: async function* keepAlive() {} } } },
      healthResolvers,
      authResolvers,
      adminResolvers,
      conversationsResolvers,
      messagesResolvers,
      contactsResolvers,
      notificationsResolvers,
      reportsResolvers,
      rulesResolvers,
      campaignsResolvers,
      webhooksResolvers,
      channelsResolvers,
      transcriptsResolvers,
      widgetResolvers,
    ],
  });
}

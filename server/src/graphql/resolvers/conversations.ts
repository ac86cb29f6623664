// Resolvers for schema/conversations.graphql: parse, authorise (policies), call commands, present.
export const conversationsResolvers = {};

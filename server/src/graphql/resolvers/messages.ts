// Resolvers for schema/messages.graphql: parse, authorise (policies), call commands, present.
export const messagesResolvers = {};

// Resolvers for schema/notifications.graphql: parse, authorise (policies), call commands, present.
export const notificationsResolvers = {};

// Resolvers for schema/admin.graphql: parse, authorise (policies), call commands, present.
export const adminResolvers = {};

// Resolvers for schema/auth.graphql: parse, authorise (policies), call commands, present.
export const authResolvers = {};

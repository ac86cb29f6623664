// Resolvers for schema/reports.graphql: parse, authorise (policies), call commands, present.
export const reportsResolvers = {};

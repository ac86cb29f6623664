// Resolvers for schema/widget.graphql: parse, authorise (policies), call commands, present.
export const widgetResolvers = {};

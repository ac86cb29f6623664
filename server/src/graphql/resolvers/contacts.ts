// Resolvers for schema/contacts.graphql: parse, authorise (policies), call commands, present.
export const contactsResolvers = {};

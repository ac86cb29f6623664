// Validation rule that refuses schema introspection (`__schema`, `__type`) where it is turned off
// (production). It runs on HTTP and on graphql-ws alike, so neither transport gives the schema
// away; `__typename` stays allowed, since clients ask for it in ordinary operations.
import { GraphQLError, type ValidationContext, type ValidationRule } from 'graphql';

const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

export function noIntrospection(): ValidationRule {
  return (context: ValidationContext) => ({
    Field(field) {
      if (!INTROSPECTION_FIELDS.has(field.name.value)) return;
      context.reportError(
        new GraphQLError(`Introspection is turned off on this server; the operation asks for ${field.name.value}`, {
          nodes: [field],
          extensions: { code: 'graphql/introspection_disabled' },
        }),
      );
    },
  });
}

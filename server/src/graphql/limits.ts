// Validation rule that bounds what one operation may ask for: nesting depth, and an estimated
// cost — roughly how many objects it can return. A paged field (one with a `first` argument)
// multiplies what it contains by its page size; a list without `first` (a conversation's labels'
// owners, a contact's conversations, members) by BOUNDED_LIST, since the server caps those lists;
// a connection's `edges` are already counted by their page. A page of 100 conversations each with
// a page of 100 messages is 10,000 objects and fits; anything that multiplies further does not.
// Every root field also costs ROOT_FIELD_COST, scalar or not: each runs its own resolver (database
// queries, a report's aggregation, a mutation), so aliasing one field a thousand times is refused.
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

export const MAX_DEPTH = 12;
export const MAX_COST = 50_000;
/** The largest page a resolver returns; a `first` given by a variable counts as this. */
export const MAX_PAGE = 100;
/** What a list without `first` counts as (the server keeps such lists short, at most 20 items). */
export const BOUNDED_LIST = 10;
/** What each root field costs on top of what it returns: at most 50 in one operation. */
export const ROOT_FIELD_COST = 1_000;
/** Tokens one document may have; the largest the console or widget sends has under 100. */
export const MAX_TOKENS = 5_000;

interface Walk {
  depth: number;
  cost: number;
}

export function operationLimits({ maxDepth = MAX_DEPTH, maxCost = MAX_COST } = {}): ValidationRule {
  return (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const schema = context.getSchema();
    return {
      OperationDefinition(operation) {
        const root = operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
        const measured = measure({ fragments, schema: context.getSchema() }, operation.selectionSet, root ?? undefined, 0, new Set());
        if (measured.depth > maxDepth) {
          context.reportError(
            new GraphQLError(`The operation is nested ${measured.depth} levels deep; the limit is ${maxDepth}`, {
              nodes: [operation],
              extensions: { code: 'graphql/too_deep' },
            }),
          );
        } else if (measured.cost > maxCost) {
          context.reportError(
            new GraphQLError(`The operation could return about ${measured.cost} objects; the limit is ${maxCost}. Ask for smaller pages or fewer nested lists.`, {
              nodes: [operation],
              extensions: { code: 'graphql/too_costly' },
            }),
          );
        }
      },
    };
  };
}

interface Scope {
  fragments: Map<string, FragmentDefinitionNode>;
  schema: ReturnType<ValidationContext['getSchema']>;
}

function measure(scope: Scope, selectionSet: SelectionSetNode, parent: GraphQLNamedType | undefined, depth: number, visiting: Set<string>): Walk {
  let deepest = depth;
  let cost = 0;
  for (const selection of selectionSet.selections) {
    let inner: Walk;
    if (selection.kind === Kind.FIELD) {
      // Introspection (__schema, __type) is bounded by the schema itself and tools nest it deeply.
      if (selection.name.value.startsWith('__')) continue;
      const resolverCost = depth === 0 ? ROOT_FIELD_COST : 0;
      // Scalars come with their object; only objects count — and root fields, which run resolvers.
      if (!selection.selectionSet) {
        cost += resolverCost;
        continue;
      }
      const fieldType = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[selection.name.value]?.type : undefined;
      const child = measure(scope, selection.selectionSet, fieldType ? getNamedType(fieldType) : undefined, depth + 1, visiting);
      const isList = fieldType !== undefined && isListType(getNullableType(fieldType));
      inner = { depth: child.depth, cost: resolverCost + multiplierOf(selection, isList) * (1 + child.cost) };
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const condition = selection.typeCondition ? scope.schema.getType(selection.typeCondition.name.value) : parent;
      inner = measure(scope, selection.selectionSet, condition ?? undefined, depth, visiting);
    } else {
      const name = selection.name.value;
      const fragment = scope.fragments.get(name);
      // Cycles are reported by graphql's own NoFragmentCycles rule.
      if (!fragment || visiting.has(name)) continue;
      visiting.add(name);
      inner = measure(scope, fragment.selectionSet, scope.schema.getType(fragment.typeCondition.name.value) ?? undefined, depth, visiting);
      visiting.delete(name);
    }
    deepest = Math.max(deepest, inner.depth);
    cost += inner.cost;
  }
  return { depth: deepest, cost };
}

/** How many items a field may return: its `first` (capped), BOUNDED_LIST for other lists, else 1. */
function multiplierOf(field: FieldNode, isList: boolean): number {
  const first = field.arguments?.find((argument) => argument.name.value === 'first');
  if (first) {
    if (first.value.kind === Kind.INT) return Math.max(1, Math.min(Number(first.value.value), MAX_PAGE));
    return MAX_PAGE;
  }
  // A connection's edges are its page, already counted on the connection field.
  if (!isList || field.name.value === 'edges') return 1;
  return BOUNDED_LIST;
}

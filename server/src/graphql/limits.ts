// Validation rule that bounds what one operation may ask for: nesting depth, and an estimated
// cost in which every paged field (one with a `first` argument) multiplies what it contains by
// its page size. Lists without `first` are short and bounded by the server, so they count once.
// With pages of at most 100, two nested paged lists fit; a third does not.
import {
  GraphQLError,
  Kind,
  type ValidationRule,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';

export const MAX_DEPTH = 12;
export const MAX_COST = 20_000;
/** The largest page a resolver returns; a `first` given by a variable counts as this. */
export const MAX_PAGE = 100;

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
    return {
      OperationDefinition(operation) {
        const measured = measure(operation.selectionSet, fragments, 0, new Set());
        if (measured.depth > maxDepth) {
          context.reportError(
            new GraphQLError(`The operation is nested ${measured.depth} levels deep; the limit is ${maxDepth}`, {
              nodes: [operation],
              extensions: { code: 'graphql/too_deep' },
            }),
          );
        } else if (measured.cost > maxCost) {
          context.reportError(
            new GraphQLError(`The operation would cost ${measured.cost}; the limit is ${maxCost}. Ask for smaller pages.`, {
              nodes: [operation],
              extensions: { code: 'graphql/too_costly' },
            }),
          );
        }
      },
    };
  };
}

function measure(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  depth: number,
  visiting: Set<string>,
): Walk {
  let deepest = depth;
  let cost = 0;
  for (const selection of selectionSet.selections) {
    let inner: Walk | undefined;
    if (selection.kind === Kind.FIELD) {
      // Introspection (__schema, __type) is bounded by the schema itself and tools nest it deeply.
      if (selection.name.value.startsWith('__')) continue;
      if (!selection.selectionSet) {
        cost += 1;
        continue;
      }
      const child = measure(selection.selectionSet, fragments, depth + 1, visiting);
      const multiplier = pageSizeOf(selection);
      inner = { depth: child.depth, cost: multiplier * (1 + child.cost) };
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      inner = measure(selection.selectionSet, fragments, depth, visiting);
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      // Cycles are reported by graphql's own NoFragmentCycles rule.
      if (!fragment || visiting.has(name)) continue;
      visiting.add(name);
      inner = measure(fragment.selectionSet, fragments, depth, visiting);
      visiting.delete(name);
    }
    deepest = Math.max(deepest, inner.depth);
    cost += inner.cost;
  }
  return { depth: deepest, cost };
}

/** How many items a field may return: its `first` argument (capped), 1 when it has none. */
function pageSizeOf(field: FieldNode): number {
  const first = field.arguments?.find((argument) => argument.name.value === 'first');
  if (!first) return 1;
  if (first.value.kind === Kind.INT) return Math.max(1, Math.min(Number(first.value.value), MAX_PAGE));
  return MAX_PAGE;
}

import { checkHealth, type Health } from '../../health.ts';
import type { GraphQLContext } from '../context.ts';

export const healthResolvers = {
  Query: {
    health: (_parent: unknown, _args: unknown, context: GraphQLContext): Promise<Health> =>
      checkHealth(context.database, context.logger),
  },
};

// The context every resolver receives; built per request, shared by HTTP and (later) WebSocket.
import type { Database } from '../db/connect.ts';
import type { Logger } from '../logger.ts';

export interface GraphQLContext {
  database: Database;
  logger: Logger;
}

export type ContextDependencies = Pick<GraphQLContext, 'database' | 'logger'>;

export function createContextFactory({ database, logger }: ContextDependencies): () => Promise<GraphQLContext> {
  return async () => ({ database, logger });
}

// The context every resolver receives, built by one factory for HTTP requests and WebSocket
// connections alike.
import type { Viewer } from '../auth/viewer.ts';
import { viewerFromAuthorization } from '../auth/viewer.ts';
import type { Database } from '../db/connect.ts';
import type { Logger } from '../logger.ts';
import type { Services } from '../services.ts';

export interface GraphQLContext {
  database: Database;
  logger: Logger;
  services: Services;
  viewer: Viewer;
  /** The bearer token of this request (logout ends it). */
  token: string | undefined;
  /** The browser's Origin header, when the request came from a web page (widget domain checks). */
  origin: string | undefined;
  /** The peer address of the connection (behind a reverse proxy: the proxy's), for sign-in throttling. */
  clientAddress?: string | undefined;
}

export type ContextDependencies = Pick<GraphQLContext, 'database' | 'logger' | 'services'>;

export function createContextFactory(dependencies: ContextDependencies) {
  return async (authorization: unknown, origin?: unknown, clientAddress?: string): Promise<GraphQLContext> =>
    contextWithViewer(dependencies, await viewerFromAuthorization(authorization), authorization, origin, clientAddress);
}

/** The context for a viewer resolved already (a WebSocket's, checked again while it is open). */
export function contextWithViewer(dependencies: ContextDependencies, viewer: Viewer, authorization: unknown, origin?: unknown, clientAddress?: string): GraphQLContext {
  return {
    ...dependencies,
    viewer,
    token: typeof authorization === 'string' ? authorization.replace(/^Bearer\s+/i, '').trim() : undefined,
    origin: typeof origin === 'string' ? origin : undefined,
    clientAddress,
  };
}

// The HTTP side of the server: one http.Server with /healthz, /graphql (HTTP and graphql-ws on the
// same path), uploads and attachment downloads.
import http from 'node:http';
import type { Types } from 'mongoose';
import express, { type ErrorRequestHandler, type Router } from 'express';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { GraphQLError, parse, specifiedRules, validate, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerToken, identityOf, sameIdentity, viewerFromAuthorization, visitorIdentities, type Viewer } from '../auth/viewer.ts';
import { kindOfToken } from '../auth/tokens.ts';
import type { Database } from '../db/connect.ts';
import { healthHandler, listenOn } from './health-server.ts';
import type { Logger } from '../logger.ts';
import type { Services } from '../services.ts';
import { contextWithViewer, createContextFactory, type GraphQLContext } from '../graphql/context.ts';
import { createErrorFormatter } from '../graphql/format-error.ts';
import { noIntrospection } from '../graphql/introspection.ts';
import { MAX_TOKENS, operationLimits } from '../graphql/limits.ts';
import { metricsRouter } from './metrics.ts';

type SocketExtra = {
  socket: WebSocket;
  request: http.IncomingMessage;
  /** Who the socket's token stands for, resolved on connect and again at every recheck. */
  viewer?: Viewer;
};

/** What the periodic recheck keeps of an open WebSocket: its token and who it stood for on connect. */
interface OpenSocket {
  extra: SocketExtra;
  authorization: unknown;
  connectedAs: Viewer;
}

/** Visitor tokens rechecked per batch of queries. */
const RECHECK_BATCH = 500;

/** Distinct WebSocket documents kept parsed and validated; clients send a few dozen. */
const VALID_DOCUMENTS_KEPT = 500;
/** Longer documents are parsed and validated every time rather than kept. */
const LONGEST_KEPT_DOCUMENT = 20_000;

/** A map that forgets its least recently used entry beyond `capacity`. */
class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();
  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}

export interface HttpDependencies {
  database: Database;
  logger: Logger;
  services: Services;
  schema: GraphQLSchema;
  /** How often an open WebSocket's token is checked again (default 30 s). */
  socketRecheckMs?: number;
  /** Extra routes (uploads, attachments, later webhooks and static UIs), mounted before 404. */
  routers?: Router[];
}

export interface HttpServer {
  /** Starts listening; resolves with the base URL (port 0 picks a free port). */
  listen(port: number, host: string): Promise<string>;
  /** Stops accepting connections, closes WebSockets and lets requests in flight finish. */
  close(): Promise<void>;
}

export async function createHttpServer({ database, logger, services, schema, routers = [], socketRecheckMs = 30_000 }: HttpDependencies): Promise<HttpServer> {
  const app = express();
  const server = http.createServer(app);
  const contextDependencies = { database, logger, services };
  const contextFor = createContextFactory(contextDependencies);
  // One decision for both transports: graphql-ws has no introspection switch of its own, so the
  // rule below refuses it over HTTP and WebSocket alike.
  const introspection = !services.config.production;
  const validationRules = [operationLimits(), ...(introspection ? [] : [noIntrospection()])];

  const validDocuments = new BoundedCache<string, DocumentNode>(VALID_DOCUMENTS_KEPT);

  const webSockets = new WebSocketServer({ server, path: '/graphql' });
  // A socket lives for hours: when its token stops being valid (logout, expiry, a password reset)
  // or now stands for someone else (a role change, a merged visitor), it is closed. One timer for
  // every socket, and visitor tokens checked in batches: a timer and three queries per socket and
  // period kept a server with 5,000 idle widgets busy with nothing but rechecks.
  const openSockets = new Map<SocketExtra, OpenSocket>();
  let rechecking = false;
  const recheckTimer = setInterval(() => {
    if (rechecking) return;
    rechecking = true;
    recheckSockets([...openSockets.values()])
      .catch((error: unknown) => logger.warn({ err: error }, 'could not recheck WebSocket tokens'))
      .finally(() => (rechecking = false));
  }, socketRecheckMs);
  recheckTimer.unref();
  // Operations use the socket's kept viewer, so an agent's socket must not wait for the timer when
  // their token ends or their rights change (a role, a removal): those sockets are checked at once.
  const recheckAgent = (userId: Types.ObjectId): void => {
    const affected = [...openSockets.values()].filter((open) => open.connectedAs.kind === 'agent' && open.connectedAs.user._id.equals(userId));
    if (affected.length === 0) return;
    void recheckSockets(affected).catch((error: unknown) => logger.warn({ err: error }, 'could not recheck WebSocket tokens'));
  };
  const stopListening = [
    services.bus.onEveryNode('access.revoked', ({ userId }) => recheckAgent(userId)),
    services.bus.onEveryNode('settings.changed', ({ entity, id }) => {
      if (entity === 'agent') recheckAgent(id);
    }),
  ];
  const formatError = createErrorFormatter(logger);
  const wsServer = useServer<Record<string, unknown>, SocketExtra>(
    {
      schema,
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        const connectedAs = await viewerFromAuthorization(authorization);
        ctx.extra.viewer = connectedAs;
        openSockets.set(ctx.extra, { extra: ctx.extra, authorization, connectedAs });
        return true;
      },
      onClose: (ctx) => {
        openSockets.delete(ctx.extra);
      },
      // Parsed and validated here, once per distinct document: the widget and the console send
      // the same few operations over and over. Parsing caps the tokens (graphql-ws parses
      // without options, and a huge document costs time however small its cost estimate).
      onSubscribe: (_ctx, _id, payload) => {
        let document = validDocuments.get(payload.query);
        if (!document) {
          try {
            document = parse(payload.query, { maxTokens: MAX_TOKENS });
          } catch (error) {
            if (!(error instanceof GraphQLError)) throw error;
            return [new GraphQLError(error.message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
          }
          const errors = validate(schema, document, [...specifiedRules, ...validationRules]);
          // Refused documents are not kept: they are rare, and each is told its errors afresh.
          if (errors.length > 0) return [...errors];
          if (payload.query.length <= LONGEST_KEPT_DOCUMENT) validDocuments.set(payload.query, document);
        }
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
      },
      // The viewer resolved on connect and kept current by the recheck above (which closes the
      // socket when the token no longer stands for the same rights): resolving it for every
      // operation cost two or three queries per message sent.
      context: (ctx) =>
        ctx.extra.viewer
          ? contextWithViewer(contextDependencies, ctx.extra.viewer, ctx.connectionParams?.authorization, ctx.extra.request.headers.origin, ctx.extra.request.socket.remoteAddress)
          : contextFor(ctx.connectionParams?.authorization, ctx.extra.request.headers.origin, ctx.extra.request.socket.remoteAddress),
      // The codes Apollo gives these errors over HTTP, so a client sees the same on both transports:
      // graphql-ws reports only an operation that fails validation through onError…
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => withCode(formatError(error.toJSON(), error), 'GRAPHQL_VALIDATION_FAILED') as never),
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!('errors' in result) || !result.errors) return result;
        // …and variables that do not fit their types (an object where an ID belongs) as a result
        // with errors, no data and no path: nothing was executed.
        const refusedInput = !('data' in result);
        return {
          ...result,
          errors: result.errors.map((error) => {
            const formatted = formatError(error.toJSON(), error);
            return (refusedInput && !error.path ? withCode(formatted, 'BAD_USER_INPUT') : formatted) as never;
          }),
        };
      },
    },
    webSockets,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError,
    // Apollo's own switch stays on; `validationRules` carries the decision for both transports.
    introspection: true,
    validationRules,
    parseOptions: { maxTokens: MAX_TOKENS },
    // Stack traces go to the log, never to clients, whatever NODE_ENV says.
    includeStacktraceInErrorResponses: false,
    // main.ts owns shutdown: Apollo's own SIGTERM handler would stop it early and send the signal again.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      { async serverWillStart() { return { async drainServer() { clearInterval(recheckTimer); for (const stop of stopListening) stop(); await wsServer.dispose(); } }; } },
    ],
  });
  await apollo.start();

  app.disable('x-powered-by');

  app.get('/healthz', healthHandler(database, logger));

  // Host pages on other origins ask for a widget session here (the loader's first request). Only
  // bearer tokens authorise requests, never cookies, so answering any origin grants nothing more
  // than a script outside a browser has anyway.
  app.use('/graphql', (request, response, next) => {
    const origin = request.headers.origin;
    if (typeof origin === 'string') {
      response.setHeader('Access-Control-Allow-Origin', origin);
      response.setHeader('Vary', 'Origin');
    }
    if (request.method !== 'OPTIONS') return next();
    response.setHeader('Access-Control-Allow-Methods', 'GET, POST');
    response.setHeader('Access-Control-Allow-Headers', 'content-type, authorization');
    response.setHeader('Access-Control-Max-Age', '600');
    response.status(204).end();
  });

  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, { context: async ({ req }) => contextFor(req.headers.authorization, req.headers.origin, req.socket.remoteAddress) }),
  );

  const metricsToken = services.config.metricsToken;
  if (metricsToken) app.use(metricsRouter({ token: metricsToken, openWebSockets: () => webSockets.clients.size }));

  for (const router of routers) app.use(router);

  app.use((_request, response) => {
    response.status(404).json({ error: { code: 'http/not_found', message: 'Not found' } });
  });

  const handleError: ErrorRequestHandler = (error, request, response, _next) => {
    const status = httpStatusOf(error);
    if (status < 500) {
      response.status(status).json({ error: { code: 'http/bad_request', message: 'Bad request' } });
      return;
    }
    logger.error({ err: error, method: request.method, url: request.originalUrl }, 'unexpected error in an HTTP request');
    response.status(500).json({ error: { code: 'http/internal', message: 'Internal server error' } });
  };
  app.use(handleError);

  return {
    listen: (port, host) => listenOn(server, port, host),
    async close() {
      // The drain plugins close WebSockets and then the http.Server once Apollo has stopped.
      await apollo.stop();
    },
  };
}

/**
 * Closes each socket whose token no longer stands for whom it stood for on connect, and keeps the
 * viewer of the others current. A visitor's viewer holds only ids, which cannot change while its
 * identity stays the same, so their tokens are checked in batches; agents (few) one by one.
 */
async function recheckSockets(sockets: OpenSocket[]): Promise<void> {
  const refuse = (open: OpenSocket): void => open.extra.socket.close(4403, 'Forbidden: the token is no longer valid');
  const visitors: Array<OpenSocket & { token: string }> = [];
  for (const open of sockets) {
    const token = bearerToken(open.authorization);
    if (open.connectedAs.kind === 'visitor' && token !== undefined && kindOfToken(token) === 'visitor') {
      visitors.push({ ...open, token });
      continue;
    }
    const viewer = await viewerFromAuthorization(open.authorization);
    if (sameIdentity(identityOf(open.connectedAs), identityOf(viewer))) open.extra.viewer = viewer;
    else refuse(open);
  }
  for (let start = 0; start < visitors.length; start += RECHECK_BATCH) {
    const batch = visitors.slice(start, start + RECHECK_BATCH);
    const identities = await visitorIdentities(batch.map((open) => open.token));
    for (const open of batch) {
      if (!sameIdentity(identityOf(open.connectedAs), identities.get(open.token) ?? { kind: 'anonymous' })) refuse(open);
    }
  }
}

/** The error with `code` in its extensions unless it already carries one. */
function withCode(error: GraphQLFormattedError, code: string): GraphQLFormattedError {
  if (typeof error.extensions?.code === 'string') return error;
  return { ...error, extensions: { ...error.extensions, code } };
}

/** The status a body parser or similar middleware attached to its error (4xx), else 500. */
function httpStatusOf(error: unknown): number {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}

// Starts the server in this process: database → event bus → jobs → listeners → first-start data →
// HTTP, each as this node's role asks. `main.ts` calls it for `npm start`; tests call it on port 0.
import { hostname } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { createAccountRules } from './automation/account-rules.ts';
import { createTabCountsCache } from './graphql/tab-counts.ts';
import { createInboxDirectory } from './db/inbox-directory.ts';
import { bootstrapInstallation, type BootstrapReport } from './bootstrap.ts';
import type { Config } from './config.ts';
import { connectDatabase, type Database } from './db/connect.ts';
// Every model registers itself with mongoose on import.
import './db/models/index.ts';
import { recordServerStart } from './db/models/system-info.ts';
import { createInProcessEventBus, type EventBus } from './events/bus.ts';
import { createChangeStreamEventBus, type ClusterEventBus } from './events/change-stream-bus.ts';
import { AppError } from './errors.ts';
import { createHealthServer } from './http/health-server.ts';
import { buildSchema } from './graphql/schema.ts';
import { createHttpServer } from './http/app.ts';
import { createOutboundClient } from './http/outbound-request.ts';
import { createAttachmentRouter } from './http/attachments.ts';
import { createChannelInboundRouter } from './http/channel-inbound.ts';
import { createWidgetRouter } from './http/widget-assets.ts';
import { createConsoleRouter } from './http/console-assets.ts';
import { defineJobs } from './jobs/index.ts';
import { createAgendaScheduler } from './jobs/scheduler.ts';
import { scheduleDeliverySweep } from './jobs/sweep-deliveries.ts';
import { registerListeners } from './listeners/index.ts';
import type { Logger } from './logger.ts';
import { startInboundSmtp } from './mail/inbound-smtp.ts';
import { createMailer } from './mail/mailer.ts';
import type { Services } from './services.ts';
import { createSharedVisitorPresence, createVisitorPresence } from './events/visitor-presence.ts';

export interface RunningCharla {
  url: string;
  services: Services;
  database: Database;
  starts: number;
  bootstrap: BootstrapReport;
  /** The inbound SMTP listener's port when SMTP_INBOUND_PORT is set (the picked one for 0). */
  smtpInboundPort: number | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** How often Agenda looks for due jobs (ms); tests use a short interval. */
  jobsProcessEveryMs?: number;
  now?: () => Date;
  /** How often open WebSockets have their token checked again (ms). */
  socketRecheckMs?: number;
}

export async function startCharla(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningCharla> {
  const database = await connectDatabase({ mongodbUri: config.mongodbUri, dataDir: config.dataDir, timeoutMs: config.databaseTimeoutMs, logger });
  const cleanups: Array<() => Promise<void>> = [() => database.close()];
  const stop = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse().splice(0)) await cleanup();
  };
  try {
    await Promise.all(mongoose.modelNames().map((name) => mongoose.model(name).init()));
    const starts = await recordServerStart();

    const web = config.role !== 'worker';
    const worker = config.role !== 'web';
    const nodeId = config.nodeId ?? `${hostname()}:${config.port === 0 ? process.pid : config.port}`;
    const bus = chooseEventBus(config, database, logger, nodeId);
    const cluster = 'start' in bus ? bus : undefined;
    if (cluster) cleanups.push(() => cluster.stop());
    // Across nodes, a reply's listener may run where the visitor's socket is not: presence is recorded in the database too.
    const sharedPresence = cluster ? createSharedVisitorPresence({ db: mongoose.connection.db!, nodeId, logger }) : undefined;
    if (sharedPresence) {
      await sharedPresence.start();
      cleanups.push(() => sharedPresence.stop());
    }
    const visitorPresence = sharedPresence ?? createVisitorPresence();
    const scheduler = createAgendaScheduler({ db: mongoose.connection.db!, logger, processEveryMs: options.jobsProcessEveryMs, lockLifetimeMs: config.jobLockMs });
    const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, outboxDir: join(config.dataDir, 'outbox'), logger });
    const services: Services = {
      config,
      logger,
      bus,
      scheduler,
      mailer,
      outbound: createOutboundClient(config.outboundAllowedNetworks),
      rules: createAccountRules(bus),
      tabCounts: createTabCountsCache(bus),
      inboxes: createInboxDirectory(bus),
      visitorPresence,
      now: options.now ?? (() => new Date()),
    };

    if (worker) {
      defineJobs(services);
      registerListeners(services);
      await scheduleDeliverySweep(services);
    }
    // Listeners are in place before the stream starts: a restarted worker catches up on what it missed.
    await cluster?.start();
    const bootstrap = await bootstrapInstallation(services);

    const httpServer = web
      ? await createHttpServer({
          database,
          logger,
          services,
          schema: buildSchema(),
          routers: [createAttachmentRouter(services), createChannelInboundRouter(services), createWidgetRouter(services), createConsoleRouter()],
          socketRecheckMs: options.socketRecheckMs,
        })
      : createHealthServer(database, logger);
    const url = await httpServer.listen(config.port, config.host);
    cleanups.push(() => httpServer.close());
    services.config = { ...config, publicUrl: config.publicUrl ?? url };

    if (worker) await scheduler.start();
    cleanups.push(async () => {
      if (worker) await scheduler.stop();
      await bus.idle();
    });

    // Started last and so closed first: no mail is taken once jobs and listeners are stopping.
    let smtpInboundPort: number | undefined;
    if (web && config.smtpInboundPort !== undefined) {
      const inboundSmtp = await startInboundSmtp(services, { port: config.smtpInboundPort, host: config.host, maxBytes: config.smtpInboundMaxBytes, tls: config.smtpInboundTls });
      cleanups.push(() => inboundSmtp.close());
      smtpInboundPort = inboundSmtp.port;
    }
    return { url, services, database, starts, bootstrap, smtpInboundPort, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Across nodes (change streams) when the database is a replica set or sharded cluster, in-process
 * otherwise. A node that does only part of the work (web or worker) needs the others to hear its events.
 */
function chooseEventBus(config: Config, database: Database, logger: Logger, nodeId: string): EventBus | ClusterEventBus {
  const acrossNodes = config.eventBus === 'change-stream' || (config.eventBus === 'auto' && database.replicated);
  if (acrossNodes && !database.replicated) {
    throw new AppError('config/invalid', 'CHARLA_EVENT_BUS=change-stream needs MongoDB as a replica set or sharded cluster (change streams)');
  }
  if (!acrossNodes) {
    if (config.role !== 'all') throw new AppError('config/invalid', `CHARLA_ROLE=${config.role} needs the change-stream event bus: MongoDB as a replica set or sharded cluster`);
    return createInProcessEventBus(logger);
  }
  logger.info({ nodeId, role: config.role }, 'events travel between nodes through change streams');
  return createChangeStreamEventBus({
    db: mongoose.connection.db!,
    logger,
    nodeId,
    worker: config.role !== 'web',
    retentionMs: config.eventRetentionMs,
    // A getMore that waits longer than the socket timeout would be cut as a failure.
    maxAwaitTimeMs: Math.min(1_000, Math.floor(config.databaseTimeoutMs / 2)),
  });
}

// Starts the whole server in this process: database → event bus → jobs → listeners → first-start
// data → HTTP. `main.ts` calls it for `npm start`; tests call it on port 0.
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
import { createInProcessEventBus } from './events/bus.ts';
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
import { createVisitorPresence } from './events/visitor-presence.ts';

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

    const bus = createInProcessEventBus(logger);
    const scheduler = createAgendaScheduler({ db: mongoose.connection.db!, logger, processEveryMs: options.jobsProcessEveryMs, lockLifetimeMs: config.jobLockMs });
    const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, outboxDir: join(config.dataDir, 'outbox'), logger });
    const services: Services = {
      config,
      logger,
      bus,
      scheduler,
      mailer,
      outbound: createOutboundClient(config.outboundAllowedNetworks),
      rules: createAccountRules(),
      tabCounts: createTabCountsCache(bus),
      inboxes: createInboxDirectory(bus),
      visitorPresence: createVisitorPresence(),
      now: options.now ?? (() => new Date()),
    };

    defineJobs(services);
    registerListeners(services);
    await scheduleDeliverySweep(services);
    const bootstrap = await bootstrapInstallation(services);

    const httpServer = await createHttpServer({
      database,
      logger,
      services,
      schema: buildSchema(),
      routers: [createAttachmentRouter(services), createChannelInboundRouter(services), createWidgetRouter(services), createConsoleRouter()],
      socketRecheckMs: options.socketRecheckMs,
    });
    const url = await httpServer.listen(config.port, config.host);
    cleanups.push(() => httpServer.close());
    services.config = { ...config, publicUrl: config.publicUrl ?? url };

    await scheduler.start();
    cleanups.push(async () => {
      await scheduler.stop();
      await bus.idle();
    });

    // Started last and so closed first: no mail is taken once jobs and listeners are stopping.
    let smtpInboundPort: number | undefined;
    if (config.smtpInboundPort !== undefined) {
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

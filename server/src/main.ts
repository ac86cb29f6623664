// `npm start`: configuration, logging and signals around `startCharla`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startCharla, type RunningCharla } from './charla.ts';
import { CONSOLE_DIST } from './http/console-assets.ts';
import { loadConfig } from './config.ts';
import { VERSION } from './health.ts';
import { createLogger, type Logger } from './logger.ts';
import type { BootstrapReport } from './bootstrap.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);

  let charla: RunningCharla | undefined;
  let stopping = false;

  const stop = async (reason: string, exitCode: number): Promise<never> => {
    // A second signal while stopping exits at once, without waiting for the first to finish.
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ reason }, 'shutting down');
    try {
      await charla?.stop();
    } catch (error) {
      logger.error({ err: error }, 'shutdown did not finish cleanly');
      exitCode = 1;
    }
    logger.info('stopped');
    process.exit(exitCode);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void stop(signal, 0));
  }

  try {
    charla = await startCharla(config, logger);
    // The ready line comes last, so whoever waits for it has the first-start sign-ins already.
    announceFirstStart(logger, charla.bootstrap);
    const worker = config.role === 'worker';
    if (!worker && !existsSync(join(CONSOLE_DIST, 'index.html'))) logger.warn('the agent console is not built: run npm run build');
    logger.info(
      { url: charla.url, version: VERSION, starts: charla.starts, embeddedDatabase: charla.database.embedded, role: config.role },
      worker ? `Charla worker is ready (health: ${charla.url}/healthz)` : `Charla is ready at ${charla.url} (agent console: ${charla.url}/app/)`,
    );
  } catch (error) {
    logger.fatal({ err: error }, 'could not start');
    await stop('startup failed', 1);
  }
}

/** What the first start created, printed once: the sign-ins and the widget's website token. */
function announceFirstStart(logger: Logger, bootstrap: BootstrapReport): void {
  if (!bootstrap.created) return;
  const password = bootstrap.generatedAdminPassword;
  logger.info(
    { adminEmail: bootstrap.adminEmail, ...(password && { adminPassword: password }) },
    password
      ? `Administrator: ${bootstrap.adminEmail} / password ${password} (generated; shown only now)`
      : `Administrator: ${bootstrap.adminEmail} (password from CHARLA_ADMIN_PASSWORD)`,
  );
  if (bootstrap.demoAgent) {
    const { name, email, password: demoPassword } = bootstrap.demoAgent;
    logger.info({ demoAgentEmail: email, demoAgentPassword: demoPassword }, `Demo agent ${name}: ${email} / password ${demoPassword}`);
  }
  if (bootstrap.websiteToken) {
    logger.info({ websiteToken: bootstrap.websiteToken }, `Demo inbox "Website": website token ${bootstrap.websiteToken}`);
  }
}

await main().catch((error: unknown) => {
  // Only reached when the configuration (and so the logger) could not be created.
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

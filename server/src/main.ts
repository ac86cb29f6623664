// Composition root: config → database → HTTP. `npm start` runs this file.
import { loadConfig } from './config.ts';
import { connectDatabase, type Database } from './db/connect.ts';
import { recordServerStart } from './db/models/system-info.ts';
import { VERSION } from './health.ts';
import { createHttpServer, type HttpServer } from './http/app.ts';
import { createLogger } from './logger.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);

  let database: Database | undefined;
  let httpServer: HttpServer | undefined;
  let stopping = false;

  const stop = async (reason: string, exitCode: number): Promise<never> => {
    // A second signal while stopping exits at once, without waiting for the first to finish.
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ reason }, 'shutting down');
    try {
      await httpServer?.close();
      await database?.close();
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
    database = await connectDatabase({ mongodbUri: config.mongodbUri, dataDir: config.dataDir, logger });
    const starts = await recordServerStart();
    httpServer = await createHttpServer({ database, logger });
    const url = await httpServer.listen(config.port, config.host);
    logger.info({ url, version: VERSION, starts, embeddedDatabase: database.embedded }, `Charla is ready at ${url}`);
  } catch (error) {
    logger.fatal({ err: error }, 'could not start');
    await stop('startup failed', 1);
  }
}

await main().catch((error: unknown) => {
  // Only reached when the configuration (and so the logger) could not be created.
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

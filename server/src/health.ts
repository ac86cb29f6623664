// What /healthz and the GraphQL `health` query report: one answer for both.
import serverPackage from '../package.json' with { type: 'json' };
import type { Database } from './db/connect.ts';
import { countServerStarts } from './db/models/system-info.ts';
import type { Logger } from './logger.ts';

export const VERSION: string = serverPackage.version;

export interface Health {
  status: 'ok' | 'degraded';
  database: 'up' | 'down';
  version: string;
  /** How many times the server has started on this database; null while it is down. */
  starts: number | null;
}

export async function checkHealth(database: Database, logger: Logger): Promise<Health> {
  const up = await database.ping();
  let starts: number | null = null;
  if (up) {
    try {
      starts = await countServerStarts();
    } catch (error) {
      logger.warn({ err: error }, 'reading the server start count failed');
    }
  }
  return { status: up ? 'ok' : 'degraded', database: up ? 'up' : 'down', version: VERSION, starts };
}

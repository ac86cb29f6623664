// The server's configuration: read once from the environment, validated, then passed on explicitly.
import path from 'node:path';
import { z } from 'zod';
import { AppError } from './errors.ts';

// An empty variable (`MONGODB_URI=`) means "not set", as it does in most shells' .env files.
const unsetWhenEmpty = (value: unknown) => (value === '' ? undefined : value);

const environmentSchema = z.object({
  PORT: z.preprocess(unsetWhenEmpty, z.coerce.number().int().min(0).max(65_535).default(3000)),
  HOST: z.preprocess(unsetWhenEmpty, z.string().default('127.0.0.1')),
  MONGODB_URI: z.preprocess(
    unsetWhenEmpty,
    z
      .string()
      .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// connection string')
      .optional(),
  ),
  DATA_DIR: z.preprocess(unsetWhenEmpty, z.string().default('./data')),
  LOG_LEVEL: z.preprocess(
    unsetWhenEmpty,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
});

export type LogLevel = z.infer<typeof environmentSchema>['LOG_LEVEL'];

export interface Config {
  port: number;
  host: string;
  /** When absent, the server starts the embedded database in-process. */
  mongodbUri: string | undefined;
  /** Absolute path; holds the embedded database's files. */
  dataDir: string;
  logLevel: LogLevel;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new AppError('config/invalid', `Invalid configuration:\n${z.prettifyError(parsed.error)}`, {
      issues: parsed.error.issues.map((issue) => ({ variable: issue.path.join('.'), message: issue.message })),
    });
  }
  const values = parsed.data;
  return {
    port: values.PORT,
    host: values.HOST,
    mongodbUri: values.MONGODB_URI,
    dataDir: path.resolve(values.DATA_DIR),
    logLevel: values.LOG_LEVEL,
  };
}

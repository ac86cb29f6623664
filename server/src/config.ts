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
  NODE_ENV: z.preprocess(unsetWhenEmpty, z.string().default('development')),
  PUBLIC_URL: z.preprocess(unsetWhenEmpty, z.url().optional()),
  CHARLA_ADMIN_EMAIL: z.preprocess(unsetWhenEmpty, z.email().default('admin@charla.local')),
  CHARLA_ADMIN_PASSWORD: z.preprocess(unsetWhenEmpty, z.string().min(8).optional()),
  CHARLA_DEMO: z.preprocess(unsetWhenEmpty, z.enum(['0', '1']).default('1')),
  SMTP_URL: z.preprocess(unsetWhenEmpty, z.string().regex(/^smtps?:\/\/\S+$/, 'must be an smtp:// or smtps:// URL').optional()),
  SMTP_INBOUND_PORT: z.preprocess(unsetWhenEmpty, z.coerce.number().int().min(0).max(65_535).optional()),
  SMTP_INBOUND_MAX_MB: z.preprocess(unsetWhenEmpty, z.coerce.number().positive().max(1024).default(25)),
  SMTP_INBOUND_TLS_CERT: z.preprocess(unsetWhenEmpty, z.string().optional()),
  SMTP_INBOUND_TLS_KEY: z.preprocess(unsetWhenEmpty, z.string().optional()),
  MAIL_FROM: z.preprocess(unsetWhenEmpty, z.string().default('Charla <no-reply@charla.local>')),
  INBOUND_EMAIL_DOMAIN: z.preprocess(
    unsetWhenEmpty,
    z.string().toLowerCase().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a domain name like reply.example.com').optional(),
  ),
  EMAIL_CONTINUITY_DELAY_SECONDS: z.preprocess(unsetWhenEmpty, z.coerce.number().min(0).max(86_400).default(120)),
  NOTIFICATION_EMAIL_DELAY_SECONDS: z.preprocess(unsetWhenEmpty, z.coerce.number().min(0).max(86_400).default(300)),
  UPLOAD_LIMIT_MB: z.preprocess(unsetWhenEmpty, z.coerce.number().positive().max(1024).default(40)),
  OUTBOUND_ALLOWED_NETWORKS: z.preprocess(
    unsetWhenEmpty,
    z
      .string()
      .regex(/^\s*[0-9a-fA-F:.]+(\/\d{1,3})?(\s*,\s*[0-9a-fA-F:.]+(\/\d{1,3})?)*\s*$/, 'must be IP addresses or networks separated by commas, like 127.0.0.1,10.0.0.0/8')
      .default(''),
  ),
  // How long one database operation may wait for an answer before the request fails with
  // 'database/unavailable'. Long enough for a busy moment or a replica-set election (a few seconds),
  // short enough that a stalled database gives clients an answer instead of a hang.
  DATABASE_TIMEOUT_SECONDS: z.preprocess(unsetWhenEmpty, z.coerce.number().min(0.5).max(600).default(20)),
  // How long a job stays locked to the process running it: after a crash, the jobs that process
  // held run again only this much later. Must exceed the longest job that does not renew its lock.
  JOB_LOCK_SECONDS: z.preprocess(unsetWhenEmpty, z.coerce.number().min(1).max(86_400).default(600)),
  DELIVERY_RETRY_BASE_SECONDS: z.preprocess(unsetWhenEmpty, z.coerce.number().positive().max(3600).default(30)),
  // How often deliveries a crash left without a job are looked for, and how old they must be.
  DELIVERY_SWEEP_SECONDS: z.preprocess(unsetWhenEmpty, z.coerce.number().positive().max(3600).default(60)),
  DELIVERY_SWEEP_GRACE_SECONDS: z.preprocess(unsetWhenEmpty, z.coerce.number().positive().max(86_400).default(120)),
  // Per widget visitor: a burst of messages, then a steady rate; 0 per minute turns the limit off.
  VISITOR_MESSAGE_BURST: z.preprocess(unsetWhenEmpty, z.coerce.number().int().min(1).max(1_000_000).default(20)),
  VISITOR_MESSAGES_PER_MINUTE: z.preprocess(unsetWhenEmpty, z.coerce.number().min(0).max(1_000_000_000).default(60)),
  METRICS_TOKEN: z.preprocess(unsetWhenEmpty, z.string().min(16, 'must be at least 16 characters').optional()),
  // web: HTTP, GraphQL and subscriptions; worker: jobs and work listeners; all: both (one node).
  CHARLA_ROLE: z.preprocess(unsetWhenEmpty, z.enum(['all', 'web', 'worker']).default('all')),
  CHARLA_NODE_ID: z.preprocess(unsetWhenEmpty, z.string().regex(/^[\w.:-]{1,100}$/, 'must be 1–100 letters, digits or . : _ -').optional()),
  // auto: across nodes (change streams) on a replica set or sharded cluster, in-process on a standalone.
  CHARLA_EVENT_BUS: z.preprocess(unsetWhenEmpty, z.enum(['auto', 'in-process', 'change-stream']).default('auto')),
  CHARLA_EVENT_RETENTION_HOURS: z.preprocess(unsetWhenEmpty, z.coerce.number().min(0.01).max(24 * 365).default(1)),
}).refine((values) => Boolean(values.SMTP_INBOUND_TLS_CERT) === Boolean(values.SMTP_INBOUND_TLS_KEY), {
  message: 'set both SMTP_INBOUND_TLS_CERT and SMTP_INBOUND_TLS_KEY (PEM files), or neither',
  path: ['SMTP_INBOUND_TLS_KEY'],
});

export type LogLevel = z.infer<typeof environmentSchema>['LOG_LEVEL'];

export interface Config {
  port: number;
  host: string;
  /** When absent, the server starts the embedded database in-process. */
  mongodbUri: string | undefined;
  /** Absolute path; holds the embedded database's files, uploads and the e-mail outbox folder. */
  dataDir: string;
  logLevel: LogLevel;
  /** GraphQL introspection is on outside production. */
  production: boolean;
  /** Base URL in links the server writes (attachments in transcripts); defaults to the listen address. */
  publicUrl: string | undefined;
  adminEmail: string;
  /** When absent on first start, a random password is generated and printed once. */
  adminPassword: string | undefined;
  demo: boolean;
  /** When absent, e-mails are written as .eml files under DATA_DIR/outbox. */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** A domain whose mail reaches the SMTP listener: conversations' reply addresses are reply+<token>@ it. */
  inboundEmailDomain: string | undefined;
  /** Agents' replies to a visitor who left wait this long, to go out together in one e-mail. */
  emailContinuityDelayMs: number;
  /** Notifications still unread after this long are e-mailed to the agent, together. */
  notificationEmailDelayMs: number;
  /** Where Charla's own SMTP listener takes mail for e-mail inboxes; off when absent (0 picks a free port). */
  smtpInboundPort: number | undefined;
  /** Bigger mail is refused (SMTP 552). */
  smtpInboundMaxBytes: number;
  /** PEM files: when both are set the SMTP listener offers STARTTLS. */
  smtpInboundTls: { certFile: string; keyFile: string } | undefined;
  uploadLimitBytes: number;
  /** Private networks (loopback, LAN …) that webhooks and channel callbacks may reach anyway. */
  outboundAllowedNetworks: string[];
  /** Longest wait for the database: selecting a server, connecting, and each operation's answer. */
  databaseTimeoutMs: number;
  /** How long a job stays locked to the process running it (what a crashed process held waits this long). */
  jobLockMs: number;
  /** First wait before an outbound delivery is tried again; each retry waits twice as long. */
  deliveryRetryBaseMs: number;
  /** How often the sweeper looks for deliveries (channel messages, outbox e-mails, webhooks) a crash left without a job, and queues them again. */
  deliverySweepEveryMs: number;
  /** Only deliveries waiting longer than this are swept, so one whose job is being saved right now is never raced. */
  deliverySweepGraceMs: number;
  /** Messages one widget visitor may send at once, refilled at visitorMessagesPerMinute. */
  visitorMessageBurst: number;
  /** 0: visitors' messages are not rate-limited. */
  visitorMessagesPerMinute: number;
  /** When set, GET /metrics answers requests that send it as a bearer token; off otherwise. */
  metricsToken: string | undefined;
  /** What this process does: web (HTTP, GraphQL, subscriptions), worker (jobs, work listeners), or all. */
  role: NodeRole;
  /** Names this node's place in the event stream; stable across its restarts. Defaults to host name and port. */
  nodeId: string | undefined;
  eventBus: 'auto' | 'in-process' | 'change-stream';
  /** How long events stay stored for other nodes: a node stopped for longer does not catch up. */
  eventRetentionMs: number;
}

export type NodeRole = 'all' | 'web' | 'worker';

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
    production: values.NODE_ENV === 'production',
    publicUrl: values.PUBLIC_URL?.replace(/\/$/, ''),
    adminEmail: values.CHARLA_ADMIN_EMAIL.toLowerCase(),
    adminPassword: values.CHARLA_ADMIN_PASSWORD,
    demo: values.CHARLA_DEMO === '1',
    smtpUrl: values.SMTP_URL,
    mailFrom: values.MAIL_FROM,
    inboundEmailDomain: values.INBOUND_EMAIL_DOMAIN,
    emailContinuityDelayMs: Math.round(values.EMAIL_CONTINUITY_DELAY_SECONDS * 1000),
    notificationEmailDelayMs: Math.round(values.NOTIFICATION_EMAIL_DELAY_SECONDS * 1000),
    smtpInboundPort: values.SMTP_INBOUND_PORT,
    smtpInboundMaxBytes: Math.round(values.SMTP_INBOUND_MAX_MB * 1024 * 1024),
    smtpInboundTls: values.SMTP_INBOUND_TLS_CERT && values.SMTP_INBOUND_TLS_KEY ? { certFile: values.SMTP_INBOUND_TLS_CERT, keyFile: values.SMTP_INBOUND_TLS_KEY } : undefined,
    uploadLimitBytes: Math.round(values.UPLOAD_LIMIT_MB * 1024 * 1024),
    outboundAllowedNetworks: values.OUTBOUND_ALLOWED_NETWORKS.split(',').map((entry) => entry.trim()).filter(Boolean),
    databaseTimeoutMs: Math.round(values.DATABASE_TIMEOUT_SECONDS * 1000),
    jobLockMs: Math.round(values.JOB_LOCK_SECONDS * 1000),
    deliveryRetryBaseMs: Math.round(values.DELIVERY_RETRY_BASE_SECONDS * 1000),
    deliverySweepEveryMs: Math.round(values.DELIVERY_SWEEP_SECONDS * 1000),
    deliverySweepGraceMs: Math.round(values.DELIVERY_SWEEP_GRACE_SECONDS * 1000),
    visitorMessageBurst: values.VISITOR_MESSAGE_BURST,
    visitorMessagesPerMinute: values.VISITOR_MESSAGES_PER_MINUTE,
    metricsToken: values.METRICS_TOKEN,
    role: values.CHARLA_ROLE,
    nodeId: values.CHARLA_NODE_ID,
    eventBus: values.CHARLA_EVENT_BUS,
    eventRetentionMs: Math.round(values.CHARLA_EVENT_RETENTION_HOURS * 3_600_000),
  };
}

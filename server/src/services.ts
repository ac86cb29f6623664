// What commands, listeners and jobs need from the running server, passed explicitly.
import type { AccountRules } from './automation/account-rules.ts';
import type { Config } from './config.ts';
import type { EventBus } from './events/bus.ts';
import type { OutboundClient } from './http/outbound-request.ts';
import type { VisitorPresence } from './events/visitor-presence.ts';
import type { Scheduler } from './jobs/scheduler.ts';
import type { InboxDirectory } from './db/inbox-directory.ts';
import type { TabCountsCache } from './graphql/tab-counts.ts';
import type { Logger } from './logger.ts';
import type { Mailer } from './mail/mailer.ts';

export interface Services {
  config: Config;
  logger: Logger;
  bus: EventBus;
  scheduler: Scheduler;
  mailer: Mailer;
  /** HTTP to addresses administrators configure, under the outbound network policy. */
  outbound: OutboundClient;
  /** Each account's compiled rules, presets and campaigns. */
  rules: AccountRules;
  /** Inboxes as stored, until an administrator changes them. */
  inboxes: InboxDirectory;
  /** The conversation list's tab counts, until a conversation of the account changes. */
  tabCounts: TabCountsCache;
  /** Which visitors have the widget open (their replies are not e-mailed). */
  visitorPresence: VisitorPresence;
  /** The current time; tests may move it. */
  now(): Date;
}

// First start on an empty database: the account, its administrator and (unless CHARLA_DEMO=0) a
// demo agent and a "Website" inbox. Any later start finds the account and creates nothing.
import { randomId } from './auth/tokens.ts';
import { createAgent } from './commands/create-agent.ts';
import { createInbox } from './commands/create-inbox.ts';
import { Account } from './db/models/account.ts';
import { claimFirstStart } from './db/models/system-info.ts';
import type { Actor } from './events/actor.ts';
import type { Services } from './services.ts';

export interface BootstrapReport {
  /** True when this start created the account. */
  created: boolean;
  /** The administrator's e-mail, when this start created the account. */
  adminEmail?: string;
  /** Set only when this start generated the administrator's password (printed once). */
  generatedAdminPassword?: string;
  /** The demo agent's sign-in, when this start created it. */
  demoAgent?: { name: string; email: string; password: string };
  websiteToken?: string;
}

export const DEMO_AGENT = { name: 'Ana García', email: 'ana@charla.local' } as const;
export const DEMO_GREETING = 'Hi there 👋 We are here to help.';

/** 20 characters of base64url: about 120 random bits. */
const generatePassword = (): string => randomId(15);

export async function bootstrapInstallation(services: Services): Promise<BootstrapReport> {
  if ((await Account.exists({})) || !(await claimFirstStart())) return { created: false };
  const { config, logger } = services;

  const account = await Account.create({ name: 'Charla', locale: 'en' });
  const performedBy: Actor = { type: 'system', accountId: account._id };
  const adminPassword = config.adminPassword ?? generatePassword();
  const admin = await createAgent(services, {
    accountId: account._id,
    name: 'Administrator',
    email: config.adminEmail,
    password: adminPassword,
    role: 'administrator',
    performedBy,
  });
  const report: BootstrapReport = {
    created: true,
    adminEmail: admin.email,
    ...(config.adminPassword === undefined && { generatedAdminPassword: adminPassword }),
  };

  if (config.demo) {
    const demoPassword = generatePassword();
    const demoAgent = await createAgent(services, {
      accountId: account._id,
      name: DEMO_AGENT.name,
      email: DEMO_AGENT.email,
      password: demoPassword,
      role: 'agent',
      performedBy,
    });
    const inbox = await createInbox(services, {
      accountId: account._id,
      name: 'Website',
      channelType: 'web_widget',
      settings: { greeting: { enabled: true, text: DEMO_GREETING }, emailCollect: true },
      memberIds: [admin._id, demoAgent._id],
      performedBy,
    });
    report.demoAgent = { name: demoAgent.name, email: demoAgent.email, password: demoPassword };
    report.websiteToken = inbox.websiteToken ?? undefined;
  }
  logger.info({ accountId: String(account._id), demo: config.demo }, 'first start: account created');
  return report;
}

// The first start on an empty database creates the account, its administrator (with a generated
// password when none is configured), a demo agent and a "Website" inbox — once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapInstallation, type BootstrapReport } from '../../../server/src/bootstrap.ts';
import { Account } from '../../../server/src/db/models/account.ts';
import { Inbox } from '../../../server/src/db/models/inbox.ts';
import { User } from '../../../server/src/db/models/user.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';

let charla: TestCharla;
let report: BootstrapReport;

const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token agent { name role } } }`;

beforeAll(async () => {
  // No CHARLA_ADMIN_PASSWORD: the server generates one.
  charla = await startTestCharla({}, { CHARLA_DEMO: '1', CHARLA_ADMIN_PASSWORD: '' });
  report = charla.bootstrap;
});
afterAll(stopAllTestCharlas);

describe('first start with the demo', () => {
  it('creates the account "Charla" and an administrator with a generated 20-character password that signs in', async () => {
    expect(report.created).toBe(true);
    expect(report.adminEmail).toBe('admin@charla.local');
    expect(report.generatedAdminPassword).toMatch(/^[A-Za-z0-9_-]{20}$/);
    const accounts = await Account.find().lean();
    expect(accounts.map((account) => [account.name, account.locale])).toEqual([['Charla', 'en']]);

    const { login } = await charla.mutate(LOGIN, { email: 'admin@charla.local', password: report.generatedAdminPassword });
    expect(login.agent).toEqual({ name: 'Administrator', role: 'ADMINISTRATOR' });
  });

  it('creates a demo agent who signs in with the reported password', async () => {
    expect(report.demoAgent).toEqual({ name: 'Ana García', email: 'ana@charla.local', password: expect.stringMatching(/^[A-Za-z0-9_-]{20}$/) });
    const { login } = await charla.mutate(LOGIN, { email: 'ana@charla.local', password: report.demoAgent!.password });
    expect(login.agent).toEqual({ name: 'Ana García', role: 'AGENT' });
  });

  it('creates the "Website" inbox with greeting and e-mail capture on, both people as members, and reports its website token', async () => {
    const { login } = await charla.mutate(LOGIN, { email: 'admin@charla.local', password: report.generatedAdminPassword });
    const { inboxes } = await charla.mutate(
      `{ inboxes { name channelType websiteToken members { name } settings { greeting { enabled text } emailCollect } } }`,
      {},
      login.token,
    );
    expect(inboxes).toEqual([
      {
        name: 'Website',
        channelType: 'WEB_WIDGET',
        websiteToken: report.websiteToken,
        members: [{ name: 'Administrator' }, { name: 'Ana García' }],
        settings: { greeting: { enabled: true, text: 'Hi there 👋 We are here to help.' }, emailCollect: true },
      },
    ]);
    // A visitor can open the widget with that token.
    const session = await charla.mutate(`mutation($t: String!) { widgetSession(websiteToken: $t) { visitorToken config { inboxName } } }`, { t: report.websiteToken });
    expect(session.widgetSession.config.inboxName).toBe('Website');
  });

  it('greets a visitor\'s "Hola" on the demo inbox and asks for an e-mail', async () => {
    const session = await charla.mutate(`mutation($t: String!) { widgetSession(websiteToken: $t) { visitorToken } }`, { t: report.websiteToken });
    const token = session.widgetSession.visitorToken;
    await charla.mutate(`mutation { sendVisitorMessage(content: "Hola") { id } }`, {}, token);
    await charla.services.bus.idle();
    const { visitorMessages } = await charla.mutate(`{ visitorMessages { edges { node { messageType contentType content } } } }`, {}, token);
    expect(visitorMessages.edges.map((edge: { node: Record<string, string> }) => [edge.node.messageType, edge.node.contentType, edge.node.content])).toEqual([
      ['INCOMING', 'TEXT', 'Hola'],
      ['TEMPLATE', 'TEXT', 'Hi there 👋 We are here to help.'],
      ['TEMPLATE', 'TEXT', 'Give the team a way to reach you.'],
      ['TEMPLATE', 'INPUT_EMAIL', 'Get notified by email'],
    ]);
  });

  it('creates nothing on a later start', async () => {
    const before = await Promise.all([Account.countDocuments(), User.countDocuments(), Inbox.countDocuments()]);
    expect(await bootstrapInstallation(charla.services)).toEqual({ created: false });
    expect(await Promise.all([Account.countDocuments(), User.countDocuments(), Inbox.countDocuments()])).toEqual(before);
    expect(before).toEqual([1, 2, 1]);
  });
});

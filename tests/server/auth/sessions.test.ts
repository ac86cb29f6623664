// Signing in and out, API tokens and availability, over HTTP and graphql-ws, as the console and
// integrators use them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessToken } from '../../../server/src/db/models/access-token.ts';
import { User } from '../../../server/src/db/models/user.ts';
import { hashToken } from '../../../server/src/auth/tokens.ts';
import type { DomainEvent } from '../../../server/src/events/event-map.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, type BuiltAgent } from '../../support/factories.ts';

let charla: TestCharla;
let ana: BuiltAgent;

const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token agent { id name email role } } }`;

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  ana = await buildAgent(account._id, { name: 'Ana García', email: 'ana@example.test', password: 'ana-secret-password' });
});
afterAll(stopAllTestCharlas);

const errorCode = (result: { errors?: Array<{ extensions?: { code?: string } }> }) => result.errors?.[0]?.extensions?.code;

describe('login', () => {
  it('gives a session token that works over HTTP and over graphql-ws connectionParams', async () => {
    const { login } = await charla.mutate(LOGIN, { email: 'ANA@example.test ', password: 'ana-secret-password' });
    expect(login.agent).toEqual({ id: String(ana.user._id), name: 'Ana García', email: 'ana@example.test', role: 'AGENT' });
    expect(login.token).toMatch(/^chs_/);

    expect(await charla.mutate(`{ me { email } }`, {}, login.token)).toEqual({ me: { email: 'ana@example.test' } });
    const overWebSocket = await charla.subscribe(`{ me { email } }`, {}, login.token);
    const result = await overWebSocket.waitFor((r) => r.data !== undefined || r.errors !== undefined);
    expect(result.data).toEqual({ me: { email: 'ana@example.test' } });
    await overWebSocket.close();
  });

  it('stores only a hash of the session token, expiring in 30 days', async () => {
    const { login } = await charla.mutate(LOGIN, { email: 'ana@example.test', password: 'ana-secret-password' });
    const stored = await AccessToken.findOne({ tokenHash: hashToken(login.token) }).lean();
    expect(stored?.kind).toBe('session');
    expect(JSON.stringify(stored)).not.toContain(login.token);
    const days = (stored!.expiresAt!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });

  it('answers auth/invalid_credentials alike for an unknown e-mail and a wrong password', async () => {
    const unknown = await charla.graphql(LOGIN, { email: 'nobody@example.test', password: 'ana-secret-password' });
    const wrong = await charla.graphql(LOGIN, { email: 'ana@example.test', password: 'not-her-password' });
    expect(errorCode(unknown)).toBe('auth/invalid_credentials');
    expect(errorCode(wrong)).toBe('auth/invalid_credentials');
    expect(unknown.errors?.[0]?.message).toBe(wrong.errors?.[0]?.message);
    expect(unknown.data).toBeNull();
  });

  it('refuses an operator object where the e-mail belongs', async () => {
    const result = await charla.graphql(LOGIN, { email: { $ne: null }, password: 'x' });
    expect(result.errors).toBeDefined();
    expect(result.data ?? null).toBeNull();
  });

  it('locks an e-mail after 10 failed attempts within 15 minutes, even for the right password, then lets it in again', async () => {
    const account = await buildAccount();
    await buildAgent(account._id, { email: 'target@example.test', password: 'target-password' });
    for (let attempt = 0; attempt < 10; attempt += 1) {
      expect(errorCode(await charla.graphql(LOGIN, { email: 'target@example.test', password: `guess-${attempt}` }))).toBe('auth/invalid_credentials');
    }
    expect(errorCode(await charla.graphql(LOGIN, { email: 'target@example.test', password: 'target-password' }))).toBe('auth/too_many_attempts');
    // Other e-mails are not affected.
    expect((await charla.mutate(LOGIN, { email: 'ana@example.test', password: 'ana-secret-password' })).login.token).toBeTruthy();

    const realNow = charla.services.now;
    charla.services.now = () => new Date(Date.now() + 15 * 60 * 1000 + 1000);
    try {
      const { login } = await charla.mutate(LOGIN, { email: 'target@example.test', password: 'target-password' });
      expect(login.token).toMatch(/^chs_/);
    } finally {
      charla.services.now = realNow;
    }
  });
});

describe('logout', () => {
  it('ends the session it was sent with; the token stops working over HTTP and for new WebSocket connections', async () => {
    const { login } = await charla.mutate(LOGIN, { email: 'ana@example.test', password: 'ana-secret-password' });
    const other = await charla.mutate(LOGIN, { email: 'ana@example.test', password: 'ana-secret-password' });
    expect(await charla.mutate(`mutation { logout }`, {}, login.token)).toEqual({ logout: true });

    expect(errorCode(await charla.graphql(`{ me { id } }`, {}, login.token))).toBe('auth/unauthenticated');
    const overWebSocket = await charla.subscribe(`{ me { email } }`, {}, login.token);
    const result = await overWebSocket.waitFor((r) => r.data !== undefined || r.errors !== undefined);
    expect(result.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
    await overWebSocket.close();
    // Her other session is untouched.
    expect(await charla.mutate(`{ me { email } }`, {}, other.login.token)).toEqual({ me: { email: 'ana@example.test' } });
  });

  it('closes WebSockets opened with the ended session, so live events stop too', async () => {
    const { login } = await charla.mutate(LOGIN, { email: 'ana@example.test', password: 'ana-secret-password' });
    const live = await charla.subscribe(`subscription { notificationEvents { id } }`, {}, login.token);
    await charla.mutate(`mutation { logout }`, {}, login.token);
    await live.ended;
    expect(JSON.stringify(live.results.at(-1))).toContain('4403');
  });

  it('closes them at once, without waiting for the periodic recheck, and so does revoking an API token', async () => {
    // An hour between rechecks: whatever closes these sockets is the sign-out itself.
    const slowRecheck = await startTestCharla({ mongodbUri: charla.config.mongodbUri }, {}, { socketRecheckMs: 3_600_000 });
    const { login } = await slowRecheck.mutate(LOGIN, { email: 'ana@example.test', password: 'ana-secret-password' });
    const live = await slowRecheck.subscribe(`subscription { notificationEvents { id } }`, {}, login.token);
    await slowRecheck.mutate(`mutation { logout }`, {}, login.token);
    await live.ended;
    expect(JSON.stringify(live.results.at(-1))).toContain('4403');

    const session = (await slowRecheck.mutate(LOGIN, { email: 'ana@example.test', password: 'ana-secret-password' })).login.token;
    const { createAccessToken } = await slowRecheck.mutate(`mutation { createAccessToken(name: "short-lived") { token } }`, {}, session);
    const stored = await AccessToken.findOne({ tokenHash: hashToken(createAccessToken.token) }).lean();
    const integration = await slowRecheck.subscribe(`subscription { notificationEvents { id } }`, {}, createAccessToken.token);
    const console_ = await slowRecheck.subscribe(`subscription { notificationEvents { id } }`, {}, session);
    await slowRecheck.mutate(`mutation($id: ID!) { revokeAccessToken(id: $id) }`, { id: String(stored!._id) }, session);
    await integration.ended;
    expect(JSON.stringify(integration.results.at(-1))).toContain('4403');
    // The console session of the same agent stays open: it is still valid.
    expect(await slowRecheck.mutate(`{ me { email } }`, {}, session)).toEqual({ me: { email: 'ana@example.test' } });
    expect(console_.results).toEqual([]);
    await console_.close();
  });

  it('refuses anonymous callers', async () => {
    expect(errorCode(await charla.graphql(`mutation { logout }`))).toBe('auth/unauthenticated');
  });
});

describe('API access tokens', () => {
  it('act as the agent who created them, never expire and survive the end of that session', async () => {
    const { login } = await charla.mutate(LOGIN, { email: 'ana@example.test', password: 'ana-secret-password' });
    const { createAccessToken } = await charla.mutate(`mutation { createAccessToken(name: "CRM sync") { token name } }`, {}, login.token);
    expect(createAccessToken.name).toBe('CRM sync');
    expect(createAccessToken.token).toMatch(/^cha_/);
    const stored = await AccessToken.findOne({ tokenHash: hashToken(createAccessToken.token) }).lean();
    expect(stored).toMatchObject({ kind: 'api', expiresAt: null, name: 'CRM sync' });

    await charla.mutate(`mutation { logout }`, {}, login.token);
    expect(await charla.mutate(`{ me { id email } }`, {}, createAccessToken.token)).toEqual({ me: { id: String(ana.user._id), email: 'ana@example.test' } });
    // Logging out with an API token does not revoke it: it is not a session.
    expect(await charla.mutate(`mutation { logout }`, {}, createAccessToken.token)).toEqual({ logout: false });
    expect(await charla.mutate(`{ me { email } }`, {}, createAccessToken.token)).toEqual({ me: { email: 'ana@example.test' } });
  });

  it('are listed without their secret and revoked by their owner only; an administrator password reset revokes them all', async () => {
    const account = await buildAccount();
    const admin = await buildAgent(account._id, { role: 'administrator' });
    const luis = await buildAgent(account._id);
    const first = (await charla.mutate(`mutation { createAccessToken(name: "Zapier") { token } }`, {}, luis.token)).createAccessToken.token;
    const second = (await charla.mutate(`mutation { createAccessToken(name: "CRM") { token } }`, {}, luis.token)).createAccessToken.token;
    const listed = await charla.mutate(`{ accessTokens { id name lastUsedAt } }`, {}, luis.token);
    expect(listed.accessTokens.map((token: { name: string }) => token.name)).toEqual(['CRM', 'Zapier']);
    expect(JSON.stringify(listed)).not.toContain(first.slice(4));
    const zapier = listed.accessTokens.find((token: { name: string }) => token.name === 'Zapier').id;

    // Someone else cannot revoke it; the owner can, and it stops working at once.
    const REVOKE = `mutation($id: ID!) { revokeAccessToken(id: $id) }`;
    expect(await charla.mutate(REVOKE, { id: zapier }, admin.token)).toEqual({ revokeAccessToken: false });
    expect(await charla.mutate(REVOKE, { id: zapier }, luis.token)).toEqual({ revokeAccessToken: true });
    expect(errorCode(await charla.graphql(`{ me { id } }`, {}, first))).toBe('auth/unauthenticated');
    expect(await charla.mutate(`{ me { id } }`, {}, second)).toEqual({ me: { id: String(luis.user._id) } });

    await charla.mutate(
      `mutation($id: ID!) { updateAgent(id: $id, input: { password: "a brand new password" }) { id } }`,
      { id: String(luis.user._id) },
      admin.token,
    );
    expect(errorCode(await charla.graphql(`{ me { id } }`, {}, second))).toBe('auth/unauthenticated');
    expect(errorCode(await charla.graphql(`{ me { id } }`, {}, luis.token))).toBe('auth/unauthenticated');
  });

  it('need a name', async () => {
    expect(errorCode(await charla.graphql(`mutation { createAccessToken(name: "  ") { token } }`, {}, ana.token))).toBe('input/invalid');
  });
});

describe('availability', () => {
  it('changes the agent and publishes presence.updated', async () => {
    const events: DomainEvent[] = [];
    const stream = charla.services.bus.stream((event) => event.name === 'presence.updated');
    const received = (async () => {
      for await (const event of stream) {
        events.push(event);
        break;
      }
    })();
    const { setAvailability } = await charla.mutate(`mutation { setAvailability(status: BUSY) { id availability } }`, {}, ana.token);
    expect(setAvailability).toEqual({ id: String(ana.user._id), availability: 'BUSY' });
    await received;
    expect(events[0]?.payload).toMatchObject({ userId: ana.user._id, availability: 'busy' });
    expect((await User.findById(ana.user._id).lean())?.availability).toBe('busy');
    expect(await charla.mutate(`{ me { availability } }`, {}, ana.token)).toEqual({ me: { availability: 'BUSY' } });
  });
});

describe('the Agent type', () => {
  it('has no password field to ask for', async () => {
    const result = await charla.graphql(`{ me { passwordHash } }`, {}, ana.token);
    expect(result.errors?.[0]?.message).toMatch(/Cannot query field "passwordHash"/);
  });
});

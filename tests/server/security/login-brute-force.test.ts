// Guessing passwords: one e-mail is locked after 10 failures (tests/server/auth/sessions.test.ts);
// a script trying a password on many e-mails from one address is stopped after 50 failures in 15
// minutes, over HTTP and graphql-ws alike, even for a right password, and lets people in again
// once the window has passed. Sessions already open keep working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILED_LOGIN_WINDOW_MS, MAX_FAILED_LOGINS_PER_ADDRESS } from '../../../server/src/commands/login.ts';
import { startTestCharla, stopAllTestCharlas, type GraphQLResult, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, type BuiltAgent } from '../../support/factories.ts';
import { securityTally } from '../../support/security-tally.ts';

const tally = securityTally('sign-in brute force');
const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token } }`;

let charla: TestCharla;
let agent: BuiltAgent;

beforeAll(async () => {
  charla = await startTestCharla();
  agent = await buildAgent((await buildAccount())._id, { email: 'marta@example.test', password: 'marta secret password' });
});

afterAll(stopAllTestCharlas);

const code = (result: GraphQLResult): string | undefined => result.errors?.[0]?.extensions?.code;

describe('one address trying many e-mails', () => {
  it(`is refused with auth/too_many_attempts after ${MAX_FAILED_LOGINS_PER_ADDRESS} failures, then let in once the window has passed`, async () => {
    expect(MAX_FAILED_LOGINS_PER_ADDRESS).toBe(50);
    for (let n = 0; n < MAX_FAILED_LOGINS_PER_ADDRESS; n += 1) {
      // Each e-mail once: the per-e-mail lock never comes into it.
      const result = await charla.graphql(LOGIN, { email: `guess-${n}@example.test`, password: 'password123' });
      expect({ n, code: code(result) }).toEqual({ n, code: 'auth/invalid_credentials' });
      tally.record('allowed');
    }
    const right = await charla.graphql(LOGIN, { email: agent.user.email, password: agent.password });
    expect(tally.expectDenied(code(right) === 'auth/too_many_attempts')).toBe(true);
    expect(right.data).toBeNull();

    const overSocket = await charla.subscribe(LOGIN, { email: agent.user.email, password: agent.password });
    const answered = await overSocket.waitFor((r) => r.errors !== undefined || r.data !== undefined);
    expect(tally.expectDenied(answered.errors?.[0]?.extensions?.code === 'auth/too_many_attempts')).toBe(true);
    await overSocket.close();

    // A session opened before is not affected.
    expect(await charla.mutate(`{ me { email } }`, {}, agent.token)).toEqual({ me: { email: 'marta@example.test' } });

    const realNow = charla.services.now;
    charla.services.now = () => new Date(Date.now() + FAILED_LOGIN_WINDOW_MS + 1_000);
    try {
      expect((await charla.mutate(LOGIN, { email: agent.user.email, password: agent.password })).login.token).toMatch(/^chs_/);
    } finally {
      charla.services.now = realNow;
    }
  });
});

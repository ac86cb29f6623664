// CHARLA_DEMO=0 with a configured administrator: only the account and that administrator, whose
// password is the configured one and is never reported back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Account } from '../../../server/src/db/models/account.ts';
import { Inbox } from '../../../server/src/db/models/inbox.ts';
import { User } from '../../../server/src/db/models/user.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla({}, { CHARLA_DEMO: '0', CHARLA_ADMIN_EMAIL: 'Jefa@Tienda.example', CHARLA_ADMIN_PASSWORD: 'configured-password' });
});
afterAll(stopAllTestCharlas);

describe('first start without the demo', () => {
  it('creates only the account and the configured administrator', async () => {
    expect(charla.bootstrap).toEqual({ created: true, adminEmail: 'jefa@tienda.example' });
    expect(await Account.countDocuments()).toBe(1);
    expect((await User.find().lean()).map((user) => [user.email, user.role])).toEqual([['jefa@tienda.example', 'administrator']]);
    expect(await Inbox.countDocuments()).toBe(0);

    const { login } = await charla.mutate(
      `mutation { login(email: "jefa@tienda.example", password: "configured-password") { agent { name role } } }`,
    );
    expect(login.agent).toEqual({ name: 'Administrator', role: 'ADMINISTRATOR' });
  });
});

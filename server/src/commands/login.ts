// Signing in to the console: e-mail and password for a session token (30 days). A wrong e-mail and
// a wrong password fail alike, and repeated failures for one e-mail — or from one address, trying
// many e-mails — lock it for a while.
import { AccessToken } from '../db/models/access-token.ts';
import { User, type UserDoc } from '../db/models/user.ts';
import { hashPassword, newToken, verifyPassword } from '../auth/tokens.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../services.ts';

export const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;
export const MAX_FAILED_LOGINS = 10;
export const FAILED_LOGIN_WINDOW_MS = 15 * 60 * 1000;
// A person mistyping passwords never gets near it; a script trying a password on many e-mails
// does within minutes. Behind a reverse proxy every client shares the proxy's address.
export const MAX_FAILED_LOGINS_PER_ADDRESS = 50;
// Bounds the memory an attacker can make the throttle use by trying many e-mails (or addresses).
const MAX_TRACKED_KEYS = 10_000;

export interface LoginProps {
  email: string;
  password: string;
  /** Where the attempt comes from; failures from one address are counted across e-mails. */
  clientAddress?: string;
}

export interface LoginResult {
  token: string;
  user: UserDoc;
  expiresAt: Date;
}

const invalidCredentials = (): AppError => new AppError('auth/invalid_credentials', 'The e-mail or the password is wrong');

/**
 * Failed sign-ins per key (an e-mail, or an address), kept in this process's memory (per running
 * server): after `limit` failures within FAILED_LOGIN_WINDOW_MS the key is refused until the
 * oldest failure leaves the window. Several server processes each count on their own.
 */
class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limit: number) {}

  isLocked(email: string, now: number): boolean {
    return this.recent(email, now).length >= this.limit;
  }

  recordFailure(email: string, now: number): void {
    const recent = this.recent(email, now);
    recent.push(now);
    this.failures.delete(email);
    this.failures.set(email, recent);
    if (this.failures.size > MAX_TRACKED_KEYS) {
      // Maps iterate in insertion order: the first key is the one that failed longest ago.
      this.failures.delete(this.failures.keys().next().value!);
    }
  }

  clear(email: string): void {
    this.failures.delete(email);
  }

  private recent(email: string, now: number): number[] {
    return (this.failures.get(email) ?? []).filter((time) => now - time < FAILED_LOGIN_WINDOW_MS);
  }
}

const throttles = new WeakMap<Services, { byEmail: LoginThrottle; byAddress: LoginThrottle }>();

function throttlesFor(services: Services): { byEmail: LoginThrottle; byAddress: LoginThrottle } {
  let throttle = throttles.get(services);
  if (!throttle) {
    throttle = { byEmail: new LoginThrottle(MAX_FAILED_LOGINS), byAddress: new LoginThrottle(MAX_FAILED_LOGINS_PER_ADDRESS) };
    throttles.set(services, throttle);
  }
  return throttle;
}

// Checked when the e-mail is unknown, so that answering takes as long as for a wrong password.
let decoyHash: Promise<string> | undefined;

export async function login(services: Services, { email, password, clientAddress }: LoginProps): Promise<LoginResult> {
  const normalisedEmail = email.trim().toLowerCase();
  const { byEmail: throttle, byAddress } = throttlesFor(services);
  const now = services.now();
  if (throttle.isLocked(normalisedEmail, now.getTime())) {
    throw new AppError('auth/too_many_attempts', 'Too many failed sign-ins for this e-mail; try again in 15 minutes');
  }
  if (clientAddress !== undefined && byAddress.isLocked(clientAddress, now.getTime())) {
    throw new AppError('auth/too_many_attempts', 'Too many failed sign-ins from this address; try again in 15 minutes');
  }

  const user = await User.findOne({ email: normalisedEmail });
  decoyHash ??= hashPassword('a password nobody has');
  const matches = await verifyPassword(password, user?.passwordHash ?? (await decoyHash));
  if (!user || !matches) {
    throttle.recordFailure(normalisedEmail, now.getTime());
    if (clientAddress !== undefined) byAddress.recordFailure(clientAddress, now.getTime());
    services.logger.info({ email: normalisedEmail }, 'failed sign-in');
    throw invalidCredentials();
  }
  throttle.clear(normalisedEmail);

  const { token, hash } = newToken('session');
  const expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS);
  await AccessToken.create({ tokenHash: hash, kind: 'session', accountId: user.accountId, userId: user._id, name: 'console session', expiresAt });
  services.logger.info({ userId: String(user._id) }, 'agent signed in');
  return { token, user, expiresAt };
}

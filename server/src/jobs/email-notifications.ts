// Notification e-mails: a notification of a type the agent chose (by default: assigned to them,
// mentioned) that is still unread NOTIFICATION_EMAIL_DELAY_SECONDS later is e-mailed — those of
// the same moment together, each once — through the outbox, so an SMTP outage loses nothing.
import { escapeHtml } from '@charla/channels';
import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { Locale } from '../db/models/account.ts';
import { Conversation } from '../db/models/conversation.ts';
import { Notification } from '../db/models/notification.ts';
import { OutboxEmail } from '../db/models/outbox-email.ts';
import { DEFAULT_EMAIL_NOTIFICATIONS, User } from '../db/models/user.ts';
import { translate } from '../i18n/activity.ts';
import type { Services } from '../services.ts';
import { JOB_NAMES } from './scheduler.ts';

export interface EmailNotificationsData {
  userId: string;
  /** Which stretch of NOTIFICATION_EMAIL_DELAY_SECONDS the notifications were made in (one job per stretch). */
  batch: string;
}

/** One e-mail lists at most this many; more wait for the next one. */
const MAX_PER_EMAIL = 50;

/**
 * Waits for the agent to read it in the console: notifications of the same stretch are mailed
 * together, between one and two delays after they were made (each stretch its own job, so none
 * moves or loses another).
 */
export async function scheduleNotificationEmail(services: Services, userId: Types.ObjectId): Promise<void> {
  const delay = Math.max(1, services.config.notificationEmailDelayMs);
  const batch = Math.floor(services.now().getTime() / delay);
  await services.scheduler.scheduleOnce(JOB_NAMES.emailNotifications, new Date((batch + 2) * delay), { userId: String(userId), batch: String(batch) });
}

/** Whether the agent wants e-mail for this type of notification. */
export function wantsEmail(user: { emailNotifications?: string[] | null }, type: string): boolean {
  return (user.emailNotifications ?? DEFAULT_EMAIL_NOTIFICATIONS).includes(type as never);
}

export async function sendNotificationEmail(services: Services, data: EmailNotificationsData): Promise<void> {
  if (!Types.ObjectId.isValid(data.userId)) return;
  const user = await User.findById(data.userId, { email: 1, name: 1, locale: 1, accountId: 1, emailNotifications: 1 }).lean();
  if (!user) return;
  const types = user.emailNotifications ?? [...DEFAULT_EMAIL_NOTIFICATIONS];
  // Taken by this run, unread and not mailed yet (through the {userId, readAt, emailedAt, _id} index).
  const claim = randomUUID();
  const candidates = await Notification.find({ userId: user._id, readAt: null, emailedAt: null, type: { $in: types } }, { _id: 1 }).sort({ _id: 1 }).limit(MAX_PER_EMAIL).lean();
  if (candidates.length === 0) return;
  await Notification.updateMany({ _id: { $in: candidates.map((found) => found._id) }, readAt: null, emailedAt: null }, { $set: { emailedAt: services.now(), emailClaim: claim } });
  const pending = await Notification.find({ emailClaim: claim }).sort({ _id: 1 }).lean();
  if (pending.length === 0) return;

  try {
    const locale = (user.locale ?? 'en') as Locale;
    const conversations = new Map(
      (await Conversation.find({ _id: { $in: pending.map((notification) => notification.conversationId) } }, { displayId: 1 }).lean()).map((conversation) => [String(conversation._id), conversation.displayId]),
    );
    const base = services.config.publicUrl ?? '';
    const items = pending.map((notification) => ({ text: notification.text, url: `${base}/app/conversations/${conversations.get(String(notification.conversationId)) ?? ''}` }));
    const subject = items.length === 1 ? items[0]!.text : translate(locale, 'notification_email.subject', { count: items.length });
    const open = translate(locale, 'notification_email.open');
    const text = items.map((item) => `${item.text}\n${open}: ${item.url}`).join('\n\n');
    const html = [
      '<!doctype html><html><body style="font-family:sans-serif">',
      ...items.map((item) => `<p>${escapeHtml(item.text)}<br><a href="${escapeHtml(item.url)}">${escapeHtml(open)}</a></p>`),
      '</body></html>',
    ].join('\n');
    const email = await OutboxEmail.create({ accountId: user.accountId, kind: 'notification', to: [user.email], subject, text, html });
    await services.scheduler.scheduleOnce(JOB_NAMES.deliverOutboxEmail, services.now(), { outboxEmailId: String(email._id) });
  } catch (error) {
    // Not queued: they go in a later e-mail. (A crash right here loses this e-mail; the notifications stay in the panel.)
    await Notification.updateMany({ emailClaim: claim }, { $set: { emailedAt: null, emailClaim: null } });
    throw error;
  }
  // More than one e-mail's worth: the rest follow in a job of their own.
  if (candidates.length === MAX_PER_EMAIL) await services.scheduler.scheduleOnce(JOB_NAMES.emailNotifications, services.now(), { userId: data.userId, batch: `${data.batch}-after-${claim}` });
}

export function defineEmailNotificationsJob(services: Services): void {
  services.scheduler.define<EmailNotificationsData>(JOB_NAMES.emailNotifications, (data) => sendNotificationEmail(services, data));
}

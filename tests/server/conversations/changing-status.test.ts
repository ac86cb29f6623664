// Status changes: open (an agent who opens takes the conversation, an administrator does not),
// pending, resolved, snoozed until next reply / tomorrow / next week / a custom time with a
// stored wake-up job, and mute.
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeConversationStatus } from '../../../server/src/commands/change-conversation-status.ts';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import type { EventMap } from '../../../server/src/events/event-map.ts';
import { JOB_NAMES } from '../../../server/src/jobs/scheduler.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { activityLines, buildTeamWithInboxes, conversationIn } from './fixtures.ts';

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla();
});
afterAll(stopAllTestCharlas);

const CHANGE_STATUS = `mutation($id: ID!, $status: ConversationStatus!, $snooze: SnoozeOption, $snoozedUntil: DateTime) {
  changeConversationStatus(conversationId: $id, status: $status, snooze: $snooze, snoozedUntil: $snoozedUntil) {
    id status snoozedUntil muted assignee { name } } }`;

async function changeStatus(token: string, id: unknown, status: string, extra: Record<string, unknown> = {}) {
  return (await charla.mutate(CHANGE_STATUS, { id: String(id), status, ...extra }, token)).changeConversationStatus as {
    status: string;
    snoozedUntil: string | null;
    muted: boolean;
    assignee: { name: string } | null;
  };
}

function wakeUpJob(conversationId: unknown) {
  return mongoose.connection.db!.collection('agendaJobs').findOne({ name: JOB_NAMES.wakeSnoozedConversation, 'data.conversationId': String(conversationId) });
}

/** Date and time as a clock in `timeZone` shows them, e.g. { date: '2026-03-07', time: '09:00', weekday: 'Mon' }. */
function wallClock(instant: Date, timeZone: string) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short' })
      .formatToParts(instant)
      .map((part) => [part.type, part.value]),
  );
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}`, weekday: parts.weekday };
}

const dayAfter = (date: string): string => new Date(Date.parse(`${date}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** Resolves with the next event `name` that matches, published after this call. */
function nextEvent<K extends keyof EventMap>(name: K, match: (payload: EventMap[K]) => boolean, timeoutMs = 10_000): Promise<EventMap[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${name} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = charla.services.bus.on(name, (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

describe('opening a conversation', () => {
  it('assigns a pending conversation to the agent (role agent) who opens it', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website, { status: 'pending' });

    const opened = await changeStatus(ana.token, conversation._id, 'OPEN');
    expect(opened).toMatchObject({ status: 'OPEN', assignee: { name: 'Ana García' } });
    expect(await activityLines(conversation._id)).toEqual(['Conversation was reopened by Ana García', 'Ana García self-assigned this conversation']);
  });

  it('leaves the assignee alone when an administrator opens it', async () => {
    const { admin, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website, { status: 'pending' });

    const opened = await changeStatus(admin.token, conversation._id, 'OPEN');
    expect(opened).toMatchObject({ status: 'OPEN', assignee: null });
    expect(await activityLines(conversation._id)).toEqual(['Conversation was reopened by Marta Admin']);
  });

  it('publishes conversation.status_changed with the previous status and the self-assignment already done', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website, { status: 'pending' });
    const changed = nextEvent('conversation.status_changed', (payload) => payload.conversation._id.equals(conversation._id));
    await changeStatus(ana.token, conversation._id, 'OPEN');
    const payload = await changed;
    expect(payload.previousStatus).toBe('pending');
    expect(String(payload.conversation.assigneeId)).toBe(String(ana.user._id));
  });
});

describe('resolving and marking pending', () => {
  it('writes the status lines in the account locale', async () => {
    const { ana, website } = await buildTeamWithInboxes({ locale: 'es' });
    const { conversation } = await conversationIn(website, { assigneeId: ana.user._id });

    await changeStatus(ana.token, conversation._id, 'RESOLVED');
    await changeStatus(ana.token, conversation._id, 'PENDING');
    await changeStatus(ana.token, conversation._id, 'SNOOZED');
    await changeStatus(ana.token, conversation._id, 'OPEN');
    expect(await activityLines(conversation._id)).toEqual([
      'La conversación fue marcada como resuelta por Ana García',
      'La conversación fue marcada como pendiente por Ana García',
      'La conversación fue pospuesta por Ana García',
      'La conversación fue reabierta por Ana García',
    ]);
  });

  it('writes the status lines in English for an en account', async () => {
    const { ana, website } = await buildTeamWithInboxes({ locale: 'en' });
    const { conversation } = await conversationIn(website, { assigneeId: ana.user._id });

    await changeStatus(ana.token, conversation._id, 'PENDING');
    await changeStatus(ana.token, conversation._id, 'RESOLVED');
    await changeStatus(ana.token, conversation._id, 'OPEN');
    expect(await activityLines(conversation._id)).toEqual([
      'Conversation was marked as pending by Ana García',
      'Conversation was marked resolved by Ana García',
      'Conversation was reopened by Ana García',
    ]);
  });

  it('writes no activity line when a contact\'s message reopens the conversation', async () => {
    const { website } = await buildTeamWithInboxes();
    const { conversation, contact, contactInbox } = await conversationIn(website, { status: 'resolved' });
    const reopened = await changeConversationStatus(charla.services, {
      conversation,
      status: 'open',
      performedBy: { type: 'contact', accountId: conversation.accountId, contactId: contact._id, inboxId: website._id, contactInboxId: contactInbox._id },
    });
    expect(reopened.status).toBe('open');
    expect(reopened.assigneeId).toBeNull();
    expect(await activityLines(conversation._id)).toEqual([]);
  });
});

describe('snoozing', () => {
  it('snoozes until tomorrow 09:00 in the acting agent\'s timezone and stores the wake-up job', async () => {
    const { ana, website } = await buildTeamWithInboxes({ agentTimezone: 'America/Mexico_City' });
    const { conversation } = await conversationIn(website);
    const before = new Date();

    const snoozed = await changeStatus(ana.token, conversation._id, 'SNOOZED', { snooze: 'TOMORROW' });
    expect(snoozed.status).toBe('SNOOZED');
    const until = new Date(snoozed.snoozedUntil!);
    const local = wallClock(until, 'America/Mexico_City');
    expect(local.time).toBe('09:00');
    expect(local.date).toBe(dayAfter(wallClock(before, 'America/Mexico_City').date));

    const job = await wakeUpJob(conversation._id);
    expect(job?.nextRunAt?.toISOString()).toBe(until.toISOString());
    expect(await activityLines(conversation._id)).toEqual(['Conversation was snoozed by Ana García']);
  });

  it('snoozes until next Monday 09:00 in the agent\'s timezone', async () => {
    const { ana, website } = await buildTeamWithInboxes({ agentTimezone: 'Asia/Tokyo' });
    const { conversation } = await conversationIn(website);
    const snoozed = await changeStatus(ana.token, conversation._id, 'SNOOZED', { snooze: 'NEXT_WEEK' });
    const until = new Date(snoozed.snoozedUntil!);
    expect(wallClock(until, 'Asia/Tokyo')).toMatchObject({ weekday: 'Mon', time: '09:00' });
    const daysAhead = (until.getTime() - Date.now()) / 86_400_000;
    expect(daysAhead).toBeGreaterThan(0);
    expect(daysAhead).toBeLessThanOrEqual(7);
  });

  it('snoozes until the next reply with no wake-up time and no job', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website);
    const snoozed = await changeStatus(ana.token, conversation._id, 'SNOOZED', { snooze: 'UNTIL_NEXT_REPLY' });
    expect(snoozed).toMatchObject({ status: 'SNOOZED', snoozedUntil: null });
    expect(await wakeUpJob(conversation._id)).toBeNull();
  });

  it('refuses a custom time in the past, and snooze options for other statuses', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website);
    const past = await charla.graphql(CHANGE_STATUS, { id: String(conversation._id), status: 'SNOOZED', snoozedUntil: new Date(Date.now() - 60_000).toISOString() }, ana.token);
    expect(past.errors?.[0]?.extensions?.code).toBe('input/invalid');
    const wrongStatus = await charla.graphql(CHANGE_STATUS, { id: String(conversation._id), status: 'RESOLVED', snooze: 'TOMORROW' }, ana.token);
    expect(wrongStatus.errors?.[0]?.extensions?.code).toBe('input/invalid');
    expect((await Conversation.findById(conversation._id).lean())!.status).toBe('open');
  });

  it('reopens the conversation when the custom time comes, without an activity line', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website, { assigneeId: ana.user._id });
    const woke = nextEvent('conversation.status_changed', (payload) => payload.conversation._id.equals(conversation._id) && payload.previousStatus === 'snoozed');

    const snoozed = await changeStatus(ana.token, conversation._id, 'SNOOZED', { snoozedUntil: new Date(Date.now() + 1_000).toISOString() });
    expect((await wakeUpJob(conversation._id))?.nextRunAt?.toISOString()).toBe(snoozed.snoozedUntil);

    const payload = await woke;
    expect(payload.conversation.status).toBe('open');
    expect(payload.performedBy.type).toBe('system');
    const stored = await Conversation.findById(conversation._id).lean();
    expect(stored).toMatchObject({ status: 'open', snoozedUntil: null });
    expect(await activityLines(conversation._id)).toEqual(['Conversation was snoozed by Ana García']);
  });

  it('cancels the wake-up job when the status changes before it runs', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website);
    await changeStatus(ana.token, conversation._id, 'SNOOZED', { snooze: 'TOMORROW' });
    expect(await wakeUpJob(conversation._id)).not.toBeNull();
    await changeStatus(ana.token, conversation._id, 'RESOLVED');
    expect(await wakeUpJob(conversation._id)).toBeNull();
  });

  it('replaces the wake-up time when snoozed again', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website);
    await changeStatus(ana.token, conversation._id, 'SNOOZED', { snooze: 'TOMORROW' });
    const later = await changeStatus(ana.token, conversation._id, 'SNOOZED', { snooze: 'NEXT_WEEK' });
    const jobs = await mongoose.connection.db!.collection('agendaJobs').find({ 'data.conversationId': String(conversation._id) }).toArray();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.nextRunAt.toISOString()).toBe(later.snoozedUntil);
  });
});

describe('muting', () => {
  const MUTE = `mutation($id: ID!) { muteConversation(id: $id) { status muted } }`;
  const UNMUTE = `mutation($id: ID!) { unmuteConversation(id: $id) { status muted } }`;

  it('resolves and mutes the conversation, and unmutes it, with activity lines', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website, { assigneeId: ana.user._id });

    expect((await charla.mutate(MUTE, { id: String(conversation._id) }, ana.token)).muteConversation).toEqual({ status: 'RESOLVED', muted: true });
    // Muting twice changes nothing.
    await charla.mutate(MUTE, { id: String(conversation._id) }, ana.token);
    expect((await charla.mutate(UNMUTE, { id: String(conversation._id) }, ana.token)).unmuteConversation).toEqual({ status: 'RESOLVED', muted: false });

    expect(await activityLines(conversation._id)).toEqual([
      'Conversation was marked resolved by Ana García',
      'Ana García has muted the conversation',
      'Ana García has unmuted the conversation',
    ]);
  });

  it('writes the mute and unmute lines in Spanish for an es account', async () => {
    const { ana, website } = await buildTeamWithInboxes({ locale: 'es' });
    const { conversation } = await conversationIn(website, { assigneeId: ana.user._id });
    await charla.mutate(MUTE, { id: String(conversation._id) }, ana.token);
    await charla.mutate(UNMUTE, { id: String(conversation._id) }, ana.token);
    expect(await activityLines(conversation._id)).toEqual([
      'La conversación fue marcada como resuelta por Ana García',
      'Ana García ha silenciado la conversación',
      'Ana García ha reactivado la conversación',
    ]);
  });
});

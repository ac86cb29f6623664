// Rules on a timetable: saved with a cron schedule they become an Agenda job; each run meets the
// open, pending and snoozed conversations of the rule's inboxes — "resolve what has been idle".
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { JOB_NAMES } from '../../../server/src/jobs/scheduler.ts';
import { runScheduledRule } from '../../../server/src/jobs/run-scheduled-rule.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox, type BuiltAgent } from '../../support/factories.ts';

let charla: TestCharla;
let admin: BuiltAgent;
let inbox: InboxDoc;

const SAVE = `mutation($id: ID, $json: JSON!) { saveRuleSet(id: $id, json: $json) { id } }`;

const idleRule = (cron = '0 9 * * 1-5') => ({
  version: 1,
  name: `Tidy up ${Math.random().toString(36).slice(2, 8)}`,
  inboxes: [String(inbox._id)],
  rules: [
    {
      id: 'resolve-idle',
      name: 'Resolve pending conversations idle for a day',
      on: 'schedule',
      schedule: { cron, timezone: 'Europe/Madrid' },
      conditions: {
        all: [
          { fact: 'conversation.status', operator: 'equal', value: 'pending' },
          { fact: 'conversation.minutesSinceActivity', operator: 'greaterThan', value: 24 * 60 },
        ],
      },
      actions: [{ type: 'change_status', params: { status: 'resolved' } }],
    },
  ],
});

const jobs = () => mongoose.connection.db!.collection('agendaJobs').find({ name: JOB_NAMES.runScheduledRule }).toArray();

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator' });
  inbox = await buildInbox(account._id);
});

afterAll(stopAllTestCharlas);

describe('a rule on schedule', () => {
  it('is an Agenda job on its timetable while it exists, and none once deleted', async () => {
    const { id } = (await charla.mutate(SAVE, { json: idleRule() }, admin.token)).saveRuleSet;
    let stored = (await jobs()).filter((job) => job.data.ruleSetId === id);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ repeatInterval: '0 9 * * 1-5', repeatTimezone: 'Europe/Madrid', data: { ruleId: 'resolve-idle' } });
    expect(stored[0]!.nextRunAt.getTime()).toBeGreaterThan(Date.now());

    await charla.mutate(SAVE, { id, json: idleRule('*/30 * * * *') }, admin.token);
    stored = (await jobs()).filter((job) => job.data.ruleSetId === id);
    expect(stored.map((job) => job.repeatInterval)).toEqual(['*/30 * * * *']);

    await charla.mutate(`mutation($id: ID!) { deleteRuleSet(id: $id) }`, { id }, admin.token);
    expect((await jobs()).filter((job) => job.data.ruleSetId === id)).toEqual([]);
  });

  it('resolves only the conversations its conditions pick, signed by the Automation System', async () => {
    const json = idleRule();
    const { id } = (await charla.mutate(SAVE, { json }, admin.token)).saveRuleSet;
    const dayAndAHalfAgo = new Date(Date.now() - 36 * 60 * 60 * 1000);
    const idle = await buildConversation(await buildContact(inbox), { status: 'pending', lastActivityAt: dayAndAHalfAgo });
    const recent = await buildConversation(await buildContact(inbox), { status: 'pending' });
    const idleButOpen = await buildConversation(await buildContact(inbox), { status: 'open', lastActivityAt: dayAndAHalfAgo });

    await runScheduledRule(charla.services, { ruleSetId: id, ruleId: 'resolve-idle', cron: '0 9 * * 1-5', timezone: 'Europe/Madrid' });
    await charla.services.bus.idle();
    const statuses = await Conversation.find({ _id: { $in: [idle._id, recent._id, idleButOpen._id] } }, { status: 1 }).lean();
    const statusOf = (conversation: { _id: unknown }) => statuses.find((item) => String(item._id) === String(conversation._id))?.status;
    expect([statusOf(idle), statusOf(recent), statusOf(idleButOpen)]).toEqual(['resolved', 'pending', 'open']);
    const activity = await mongoose.connection.db!.collection('messages').find({ conversationId: idle._id, messageType: 'activity' }).toArray();
    expect(activity.map((message) => message.content)).toEqual(['Conversation was marked resolved by Automation System']);
    await charla.mutate(`mutation($id: ID!) { deleteRuleSet(id: $id) }`, { id }, admin.token);
  });

  it('cancels its own job when the rule set no longer has the rule', async () => {
    const { id } = (await charla.mutate(SAVE, { json: idleRule() }, admin.token)).saveRuleSet;
    const data = { ruleSetId: id, ruleId: 'resolve-idle', cron: '0 9 * * 1-5', timezone: 'Europe/Madrid' };
    await mongoose.connection.db!.collection('ruleSets').deleteOne({ _id: new mongoose.Types.ObjectId(id) });
    await runScheduledRule(charla.services, data);
    expect((await jobs()).filter((job) => job.data.ruleSetId === id)).toEqual([]);
  });

  it('needs a valid timetable, and only rules on schedule take one', async () => {
    const errorsOf = async (rule: Record<string, unknown>) =>
      (await charla.graphql(SAVE, { json: { ...idleRule(), rules: [{ ...idleRule().rules[0], ...rule }] } }, admin.token)).errors?.[0]?.extensions?.details;
    expect(await errorsOf({ schedule: undefined })).toEqual({ errors: [{ path: 'rules[0].schedule', message: 'a rule on schedule needs "schedule": { "cron": "…" }' }] });
    expect(await errorsOf({ schedule: { cron: '61 * * * *' } })).toEqual({
      errors: [{ path: 'rules[0].schedule.cron', message: 'must be five cron fields: minute hour day-of-month month weekday, like "0 9 * * 1-5"' }],
    });
    expect(await errorsOf({ schedule: { cron: '0 9 * * *', timezone: 'Mars/Olympus' } })).toEqual({
      errors: [{ path: 'rules[0].schedule.timezone', message: 'is not a known IANA time zone such as Europe/Madrid' }],
    });
    expect(await errorsOf({ on: 'message.created' })).toEqual({ errors: [{ path: 'rules[0].schedule', message: 'only rules on schedule take a schedule' }] });
  });
});

// A snoozed conversation wakes up at its time even when the server restarted in between: the
// wake-up is an Agenda job stored in the database, not a timer in memory.
import { afterAll, describe, expect, it } from 'vitest';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { startTestCharla, stopAllTestCharlas } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox } from '../../support/factories.ts';
import { startTestMongo, type TestMongo } from '../../support/mongo.ts';

let mongo: TestMongo | undefined;

afterAll(async () => {
  await stopAllTestCharlas();
  await mongo?.stop();
});

/** Reads the conversation until it has `status` (the job may run before a listener could attach). */
async function statusBecomes(id: unknown, status: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await Conversation.findById(id, { status: 1 }).lean())?.status === status) return;
    if (Date.now() > deadline) throw new Error(`conversation did not become ${status} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('snooze across a restart', () => {
  it('reopens the conversation at its time on the restarted server', async () => {
    mongo = await startTestMongo();
    const first = await startTestCharla({ mongodbUri: mongo.dbUri });
    const account = await buildAccount();
    const ana = await buildAgent(account._id);
    const inbox = await buildInbox(account._id, { memberIds: [ana.user._id] });
    const conversation = await buildConversation(await buildContact(inbox));

    const wakeAt = new Date(Date.now() + 2_000);
    await first.mutate(
      `mutation($id: ID!, $until: DateTime) { changeConversationStatus(conversationId: $id, status: SNOOZED, snoozedUntil: $until) { status } }`,
      { id: String(conversation._id), until: wakeAt.toISOString() },
      ana.token,
    );
    await first.stop();
    expect(Date.now()).toBeLessThan(wakeAt.getTime());

    await startTestCharla({ mongodbUri: mongo.dbUri });
    await statusBecomes(conversation._id, 'open');
    const woken = await Conversation.findById(conversation._id).lean();
    expect(woken).toMatchObject({ status: 'open', snoozedUntil: null });
  });
});

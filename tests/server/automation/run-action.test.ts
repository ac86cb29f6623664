// Each rule action does what the same action by a person does, signed by the Automation System:
// round-robin assignment, snoozing, muting, outgoing messages in an agent's name, private notes and
// transcripts (to a real SMTP server).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { RuleRun } from '../../../server/src/db/models/rule-run.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';
import { agentMessages, currentConversationId, openWidget, say } from '../widget/visitor-client.ts';

let charla: TestCharla;
let smtp: SmtpSink;
let admin: BuiltAgent;
let ana: BuiltAgent;
let bea: BuiltAgent;
let inbox: InboxDoc;

const SAVE = `mutation($json: JSON!) { saveRuleSet(json: $json) { id } }`;

beforeAll(async () => {
  smtp = await startSmtpSink();
  charla = await startTestCharla({ smtpUrl: smtp.url });
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator', name: 'Luis Admin' });
  ana = await buildAgent(account._id, { name: 'Ana García', email: 'ana@example.test' });
  bea = await buildAgent(account._id, { name: 'Bea Ruiz' });
  // Auto-assignment is off: the rule's round robin assigns anyway.
  inbox = await buildInbox(account._id, { memberIds: [ana.user._id, bea.user._id] });
});

afterAll(async () => {
  await stopAllTestCharlas();
  await smtp.stop();
});

/** Saves a rule set whose one rule runs `actions` when the visitor writes `word`; returns a conversation it acted on. */
async function actOn(word: string, actions: unknown[]) {
  const { id } = (
    await charla.mutate(
      SAVE,
      {
        json: {
          version: 1,
          name: `Actions ${word}`,
          inboxes: [String(inbox._id)],
          rules: [{ id: word, name: word, on: 'message.created', conditions: { all: [{ fact: 'message.content', operator: 'hasWord', value: word }] }, actions }],
        },
      },
      admin.token,
    )
  ).saveRuleSet;
  const visitor = await openWidget(charla, inbox.websiteToken!, { identity: { identifier: `visitor-${word}`, email: `${word}@example.test`, name: 'Lucía' } });
  await say(charla, visitor.visitorToken, `Hola, ${word}`);
  const conversationId = await currentConversationId(charla, visitor.visitorToken);
  await charla.services.bus.idle();
  const run = await RuleRun.findOne({ ruleSetKey: id, conversationId }).lean();
  return { conversationId, run, stored: await Conversation.findById(conversationId).lean(), messages: await agentMessages(charla, admin.token, conversationId) };
}

describe('rule actions', () => {
  it('assign_agent round robin takes turns among online members, even with auto-assignment off', async () => {
    const first = await actOn('turno', [{ type: 'assign_agent', params: { roundRobin: true } }]);
    const second = await actOn('vez', [{ type: 'assign_agent', params: { roundRobin: true } }]);
    expect(new Set([String(first.stored?.assigneeId), String(second.stored?.assigneeId)])).toEqual(new Set([String(ana.user._id), String(bea.user._id)]));
    expect(first.messages.filter((message) => message.messageType === 'ACTIVITY').map((message) => message.content)[0]).toMatch(/^Assigned to (Ana García|Bea Ruiz) by Automation System$/);
  });

  it('assign_agent by id, then change_status snoozes until tomorrow 09:00 in the inbox time zone', async () => {
    const { stored, messages, run } = await actOn('posponer', [
      { type: 'assign_agent', params: { agentId: String(bea.user._id) } },
      { type: 'change_status', params: { status: 'snoozed', snooze: 'tomorrow' } },
    ]);
    expect(run?.actions.map((action) => action.outcome)).toEqual(['done', 'done']);
    expect(stored).toMatchObject({ status: 'snoozed', assigneeId: bea.user._id });
    expect(stored!.snoozedUntil!.getUTCHours()).toBe(9);
    expect(stored!.snoozedUntil!.getTime()).toBeGreaterThan(Date.now());
    expect(messages.filter((message) => message.messageType === 'ACTIVITY').map((message) => message.content)).toEqual([
      'Assigned to Bea Ruiz by Automation System',
      'Conversation was snoozed by Automation System',
    ]);
  });

  it('mute resolves the conversation and keeps it resolved', async () => {
    const { stored, messages } = await actOn('silencio', [{ type: 'mute', params: {} }]);
    expect(stored).toMatchObject({ status: 'resolved', muted: true });
    expect(messages.map((message) => message.content)).toContain('Automation System has muted the conversation');
  });

  it('send_message as an agent and add_private_note write what the team and the visitor see', async () => {
    const { messages, stored } = await actOn('horario', [
      { type: 'send_message', params: { messageType: 'outgoing', agentId: String(ana.user._id), text: { en: 'Hi {{contact.name}}, we open at 9.', es: 'Hola' } } },
      { type: 'add_private_note', params: { text: 'Asked about opening hours (#{{conversation.displayId}})' } },
    ]);
    expect(messages.filter((message) => message.messageType === 'OUTGOING').map((message) => [message.content, message.private])).toEqual([
      ['Hi Lucía, we open at 9.', false],
      [`Asked about opening hours (#${stored!.displayId})`, true],
    ]);
    // Written in Ana's name by automation: the visitor is still waiting for a person.
    expect(stored).toMatchObject({ firstReplyAt: null, participants: [] });
  });

  it('send_transcript e-mails the conversation to the contact', async () => {
    const { run } = await actOn('transcripcion', [{ type: 'send_transcript', params: { to: 'contact' } }]);
    expect(run?.actions).toEqual([{ type: 'send_transcript', outcome: 'done' }]);
    const mail = await smtp.waitFor((message) => (message.to as { text: string } | undefined)?.text === 'transcripcion@example.test');
    expect(mail.text).toContain('Hola, transcripcion');
  });

  it('records an action that fails as failed, and runs the ones after it', async () => {
    const leaving = await buildAgent(admin.user.accountId, { name: 'Temporal' });
    const members = (ids: string[]) =>
      charla.mutate(`mutation($id: ID!, $agentIds: [ID!]!) { setInboxMembers(inboxId: $id, agentIds: $agentIds) { id } }`, { id: String(inbox._id), agentIds: ids }, admin.token);
    await members([String(ana.user._id), String(bea.user._id), String(leaving.user._id)]);
    const { id } = (
      await charla.mutate(
        SAVE,
        {
          json: {
            version: 1,
            name: 'Assign the one who left',
            inboxes: [String(inbox._id)],
            rules: [
              {
                id: 'left',
                name: 'left',
                on: 'message.created',
                conditions: { all: [{ fact: 'message.content', operator: 'hasWord', value: 'prioridad' }] },
                actions: [{ type: 'assign_agent', params: { agentId: String(leaving.user._id) } }, { type: 'set_priority', params: { priority: 'urgent' } }],
              },
            ],
          },
        },
        admin.token,
      )
    ).saveRuleSet;
    // Saved while a member; no longer one when the rule runs.
    await members([String(ana.user._id), String(bea.user._id)]);
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Es de máxima prioridad');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await charla.services.bus.idle();
    const run = await RuleRun.findOne({ ruleSetKey: id, conversationId }).lean();
    expect(run?.actions).toEqual([
      { type: 'assign_agent', outcome: 'failed', detail: "agentId: the agent is not a member of this conversation's inbox" },
      { type: 'set_priority', outcome: 'done' },
    ]);
    expect(await Conversation.findById(conversationId).lean()).toMatchObject({ assigneeId: null, priority: 'urgent' });
  });
});

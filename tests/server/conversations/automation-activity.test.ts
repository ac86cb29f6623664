// Actions a rule takes write the same activity lines as a person's, signed "Automation System" /
// "Sistema de automatización" in the account's language.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeConversationStatus } from '../../../server/src/commands/change-conversation-status.ts';
import { addLabels } from '../../../server/src/commands/change-labels.ts';
import { Label } from '../../../server/src/db/models/label.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import type { Locale } from '../../../server/src/db/models/account.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildContact, buildConversation, buildInbox } from '../../support/factories.ts';

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla();
});
afterAll(stopAllTestCharlas);

async function ruleActsOn(locale: Locale): Promise<string[]> {
  const account = await buildAccount({ locale });
  await Label.create({ accountId: account._id, title: 'billing' });
  const conversation = await buildConversation(await buildContact(await buildInbox(account._id)));
  const performedBy = { type: 'rule' as const, accountId: account._id, ruleId: 'billing-keywords' };
  await addLabels(charla.services, { conversation, labels: ['billing'], performedBy });
  await changeConversationStatus(charla.services, { conversation, status: 'resolved', performedBy });
  await charla.services.bus.idle();
  const lines = await Message.find({ conversationId: conversation._id, messageType: 'activity' }).sort({ _id: 1 }).lean();
  expect(lines.every((line) => line.sender === null)).toBe(true);
  return lines.map((line) => line.content);
}

describe('activity lines of rules', () => {
  it('are signed "Automation System" in English', async () => {
    expect(await ruleActsOn('en')).toEqual(['Automation System added billing', 'Conversation was marked resolved by Automation System']);
  });

  it('are signed "Sistema de automatización" in Spanish', async () => {
    expect(await ruleActsOn('es')).toEqual([
      'Sistema de automatización agregó billing',
      'La conversación fue marcada como resuelta por Sistema de automatización',
    ]);
  });
});

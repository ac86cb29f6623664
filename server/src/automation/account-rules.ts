// The compiled rules of each account: its stored rule sets, the presets its inboxes' settings
// switch on, and its inboxes' campaigns. Compiled once, kept until a rule set or an inbox changes (settings.changed).
import { campaignRuleSet, PRESETS, RuleIndex, type OngoingCampaign, type PresetKey, type RuleSet, type RuleSetEntry } from '@charla/rules';
import type { Types } from 'mongoose';
import type { EventBus } from '../events/bus.ts';
import { createIdMemo } from '../db/id-memo.ts';
import { CampaignModel } from '../db/models/campaign.ts';
import { Inbox, type InboxFields } from '../db/models/inbox.ts';
import { RuleSetModel } from '../db/models/rule-set.ts';

/** The inbox settings that are thin views over presets: which presets an inbox runs. */
export function presetsOfInbox(inbox: { channelType: InboxFields['channelType']; settings?: Pick<NonNullable<InboxFields['settings']>, 'greeting' | 'emailCollect' | 'csat' | 'botEnabled'> & { workingHours?: { enabled?: boolean | null } | null } | null }): PresetKey[] {
  const settings = inbox.settings;
  const keys: PresetKey[] = [];
  if (settings?.workingHours?.enabled) keys.push('out-of-office');
  if (settings?.greeting?.enabled && settings.greeting.text?.trim()) keys.push('greeting');
  if (settings?.emailCollect && inbox.channelType === 'web_widget') keys.push('email-capture');
  if (settings?.csat?.enabled) keys.push('csat');
  if (settings?.botEnabled) keys.push('bot-handoff');
  return keys;
}

export const presetKeyOf = (preset: PresetKey): string => `preset:${preset}`;
export const campaignsKeyOf = (inboxId: string): string => `campaigns:${inboxId}`;

export interface AccountRules {
  indexFor(accountId: Types.ObjectId): Promise<RuleIndex>;
}

export function createAccountRules(bus: EventBus): AccountRules {
  const compiled = createIdMemo(compileAccount);
  // Every node forgets, since dry runs (GraphQL) read compiled rules on web nodes too.
  bus.onEveryNode('settings.changed', ({ accountId, entity }) => {
    if (entity === 'inbox' || entity === 'rule_set' || entity === 'campaign') compiled.forget(accountId);
  });
  return { indexFor: (accountId) => compiled.of(accountId) };
}

async function compileAccount(accountId: Types.ObjectId): Promise<RuleIndex> {
  const [inboxes, stored, campaigns] = await Promise.all([
    Inbox.find({ accountId }, { channelType: 1, settings: 1 }).lean(),
    RuleSetModel.find({ accountId, enabled: true }, { document: 1 }).sort({ _id: 1 }).lean(),
    CampaignModel.find({ accountId, kind: { $ne: 'one_off' }, enabled: true }, { inboxId: 1, document: 1 }).sort({ _id: 1 }).lean(),
  ]);
  const presetInboxes = new Map<PresetKey, string[]>();
  for (const inbox of inboxes) {
    for (const preset of presetsOfInbox(inbox)) (presetInboxes.get(preset) ?? presetInboxes.set(preset, []).get(preset)!).push(String(inbox._id));
  }
  const entries: RuleSetEntry[] = [];
  for (const [preset, inboxIds] of presetInboxes) entries.push({ key: presetKeyOf(preset), ruleSet: { ...PRESETS[preset], inboxes: inboxIds } });
  for (const ruleSet of stored) entries.push({ key: String(ruleSet._id), ruleSet: ruleSet.document as RuleSet });
  const campaignsOfInbox = new Map<string, Array<{ id: string; campaign: OngoingCampaign }>>();
  for (const campaign of campaigns) {
    const inboxId = String(campaign.inboxId);
    (campaignsOfInbox.get(inboxId) ?? campaignsOfInbox.set(inboxId, []).get(inboxId)!).push({ id: String(campaign._id), campaign: campaign.document as OngoingCampaign });
  }
  for (const [inboxId, list] of campaignsOfInbox) entries.push({ key: campaignsKeyOf(inboxId), ruleSet: campaignRuleSet(inboxId, list) });
  return new RuleIndex(entries);
}

// Creates, replaces or deletes an ongoing campaign of a web widget inbox from its JSON document.
import { parseCampaign, type Campaign } from '@charla/rules';
import type { Types } from 'mongoose';
import { CampaignModel, type CampaignDoc } from '../db/models/campaign.ts';
import { Inbox } from '../db/models/inbox.ts';
import { User } from '../db/models/user.ts';
import type { AgentActor } from '../events/actor.ts';
import { invalidInput, notFound } from '../errors.ts';
import type { Services } from '../services.ts';
import { invalidRuleSet } from './save-rule-set.ts';

export interface SaveCampaignProps {
  accountId: Types.ObjectId;
  inboxId: Types.ObjectId;
  /** Absent: a new campaign. */
  campaignId?: Types.ObjectId;
  json: unknown;
  performedBy: AgentActor;
}

async function checkedCampaign(accountId: Types.ObjectId, inboxId: Types.ObjectId, json: unknown): Promise<Campaign> {
  const parsed = parseCampaign(typeof json === 'string' ? parseJson(json) : json);
  if (!parsed.ok) throw invalidRuleSet(parsed.errors);
  const inbox = await Inbox.findOne({ _id: inboxId, accountId }, { channelType: 1, memberIds: 1 }).lean();
  if (!inbox) throw notFound('inbox');
  if (inbox.channelType !== 'web_widget') throw invalidInput('inboxId', 'ongoing campaigns are for web widget inboxes');
  const { sender } = parsed.campaign;
  if (sender.type === 'agent') {
    const agent = await User.findOne({ _id: sender.agentId, accountId }, { role: 1 }).lean();
    const member = agent && (agent.role === 'administrator' || inbox.memberIds.some((id) => id.equals(agent._id)));
    if (!member) throw invalidRuleSet([{ path: 'sender.agentId', message: 'is not an agent of this inbox' }]);
  }
  return parsed.campaign;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidRuleSet([{ path: '', message: `is not valid JSON: ${(error as Error).message}` }]);
  }
}

export async function saveCampaign(services: Services, props: SaveCampaignProps): Promise<CampaignDoc> {
  const { accountId, inboxId, performedBy } = props;
  const document = await checkedCampaign(accountId, inboxId, props.json);
  const fields = { title: document.title, enabled: document.enabled, document };
  const saved = props.campaignId
    ? await CampaignModel.findOneAndUpdate({ _id: props.campaignId, accountId, inboxId }, { $set: fields }, { returnDocument: 'after' })
    : await CampaignModel.create({ accountId, inboxId, ...fields });
  if (!saved) throw notFound('campaign');
  services.bus.publish('settings.changed', { accountId, entity: 'campaign', id: saved._id, action: props.campaignId ? 'updated' : 'created', performedBy });
  return saved;
}

export async function deleteCampaign(services: Services, { accountId, campaignId, performedBy }: { accountId: Types.ObjectId; campaignId: Types.ObjectId; performedBy: AgentActor }): Promise<void> {
  const deleted = await CampaignModel.findOneAndDelete({ _id: campaignId, accountId });
  if (!deleted) throw notFound('campaign');
  services.bus.publish('settings.changed', { accountId, entity: 'campaign', id: campaignId, action: 'deleted', performedBy });
}

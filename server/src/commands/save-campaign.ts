// Creates, replaces or deletes a campaign from its JSON document: an ongoing one of a web widget
// inbox, or a one-off one of an inbox whose channel can write first, scheduled as an Agenda job.
import { adapterFor } from '@charla/channels';
import { parseCampaign, type Campaign } from '@charla/rules';
import type { Types } from 'mongoose';
import { CampaignModel, type CampaignDoc } from '../db/models/campaign.ts';
import { Inbox } from '../db/models/inbox.ts';
import { User } from '../db/models/user.ts';
import type { AgentActor } from '../events/actor.ts';
import { AppError, invalidInput, notFound } from '../errors.ts';
import { Label } from '../db/models/label.ts';
import { JOB_NAMES } from '../jobs/scheduler.ts';
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

async function checkedCampaign(accountId: Types.ObjectId, inboxId: Types.ObjectId, json: unknown, now: Date): Promise<Campaign> {
  const parsed = parseCampaign(typeof json === 'string' ? parseJson(json) : json);
  if (!parsed.ok) throw invalidRuleSet(parsed.errors);
  const inbox = await Inbox.findOne({ _id: inboxId, accountId }, { channelType: 1, memberIds: 1 }).lean();
  if (!inbox) throw notFound('inbox');
  const campaign = parsed.campaign;
  if (campaign.kind === 'one_off') {
    if (!adapterFor(inbox.channelType)?.capabilities.canInitiate) {
      throw invalidInput('inboxId', 'one-off campaigns go out through a channel that can start conversations (API, e-mail)');
    }
    if (new Date(campaign.scheduledAt).getTime() <= now.getTime()) throw invalidRuleSet([{ path: 'scheduledAt', message: 'must be in the future' }]);
    const found = await Label.find({ accountId, title: { $in: campaign.audience.labels } }, { title: 1 }).lean();
    const errors = campaign.audience.labels.flatMap((label, index) =>
      found.some((item) => item.title === label) ? [] : [{ path: `audience.labels[${index}]`, message: 'is not a label of this account' }],
    );
    if (errors.length > 0) throw invalidRuleSet(errors);
  } else if (inbox.channelType !== 'web_widget') {
    throw invalidInput('inboxId', 'ongoing campaigns are for web widget inboxes');
  }
  const { sender } = campaign;
  if (sender.type === 'agent') {
    const agent = await User.findOne({ _id: sender.agentId, accountId }, { role: 1 }).lean();
    const member = agent && (agent.role === 'administrator' || inbox.memberIds.some((id) => id.equals(agent._id)));
    if (!member) throw invalidRuleSet([{ path: 'sender.agentId', message: 'is not an agent of this inbox' }]);
  }
  return campaign;
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
  const document = await checkedCampaign(accountId, inboxId, props.json, services.now());
  const oneOff = document.kind === 'one_off';
  const fields = { title: document.title, kind: document.kind, enabled: document.enabled, document, status: oneOff ? ('scheduled' as const) : null };
  let saved: CampaignDoc | null;
  if (props.campaignId) {
    // A one-off campaign that went out stays as it went.
    saved = await CampaignModel.findOneAndUpdate({ _id: props.campaignId, accountId, inboxId, status: { $nin: ['running', 'completed'] } }, { $set: fields }, { returnDocument: 'after' });
    if (!saved && (await CampaignModel.exists({ _id: props.campaignId, accountId, inboxId }))) throw new AppError('campaign/already_sent', 'This one-off campaign has gone out and cannot change');
  } else {
    saved = await CampaignModel.create({ accountId, inboxId, ...fields });
  }
  if (!saved) throw notFound('campaign');
  const job = { campaignId: String(saved._id) };
  if (oneOff && document.enabled) await services.scheduler.scheduleOnce(JOB_NAMES.runOneOffCampaign, new Date(document.scheduledAt), job);
  else await services.scheduler.cancel(JOB_NAMES.runOneOffCampaign, job);
  services.bus.publish('settings.changed', { accountId, entity: 'campaign', id: saved._id, action: props.campaignId ? 'updated' : 'created', performedBy });
  return saved;
}

export async function deleteCampaign(services: Services, { accountId, campaignId, performedBy }: { accountId: Types.ObjectId; campaignId: Types.ObjectId; performedBy: AgentActor }): Promise<void> {
  const deleted = await CampaignModel.findOneAndDelete({ _id: campaignId, accountId });
  if (!deleted) throw notFound('campaign');
  await services.scheduler.cancel(JOB_NAMES.runOneOffCampaign, { campaignId: String(campaignId) });
  services.bus.publish('settings.changed', { accountId, entity: 'campaign', id: campaignId, action: 'deleted', performedBy });
}

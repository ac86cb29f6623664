// Agenda job 'campaigns.run-one-off': at its time, a one-off campaign goes to every contact with
// one of the audience's labels who has an identity in the campaign's inbox (its channel needs an
// address to write to), in pages by contact id, reporting progress on the campaign as it goes.
// Idempotent per contact: a run that is repeated, or resumed after a restart, skips who got it.
// A big audience takes one long run: it renews its job's lock after every page, or Agenda would
// think it dead after 10 minutes and start the same run again beside it.
import { Types } from 'mongoose';
import { startCampaignConversation } from '../commands/start-campaign-conversation.ts';
import { CampaignModel, type CampaignFields } from '../db/models/campaign.ts';
import { Contact } from '../db/models/contact.ts';
import { Conversation } from '../db/models/conversation.ts';
import { Message } from '../db/models/message.ts';
import { ContactInbox, type ContactInboxFields } from '../db/models/contact-inbox.ts';
import { Inbox, type InboxFields } from '../db/models/inbox.ts';
import type { Stored } from '../events/event-map.ts';
import type { OneOffCampaign } from '@charla/rules';
import type { Services } from '../services.ts';
import { JOB_NAMES, type RunningJob } from './scheduler.ts';

const PAGE_SIZE = 200;

export interface RunOneOffCampaignData {
  campaignId: string;
}

/** Run outside a job (`job` left out), nothing holds a lock to renew. */
export async function runOneOffCampaign(services: Services, data: RunOneOffCampaignData, job: Pick<RunningJob, 'touch'> = { touch: async () => {} }): Promise<void> {
  if (!Types.ObjectId.isValid(data.campaignId)) return;
  const campaign = (await CampaignModel.findOneAndUpdate(
    { _id: data.campaignId, kind: 'one_off', enabled: true, status: { $in: ['scheduled', 'running'] } },
    { $set: { status: 'running' } },
    { returnDocument: 'after' },
  ).lean()) as Stored<CampaignFields> | null;
  if (!campaign) return;
  const inbox = (await Inbox.findOne({ _id: campaign.inboxId, accountId: campaign.accountId }).lean()) as Stored<InboxFields> | null;
  if (!inbox) return;
  const { labels } = (campaign.document as OneOffCampaign).audience;

  // Blocked contacts are not written to.
  const audience = { accountId: campaign.accountId, labels: { $in: labels }, blocked: { $ne: true } };
  const audienceSize = await Contact.countDocuments(audience);
  let skipped = 0;
  let after: Types.ObjectId | undefined;
  for (;;) {
    const contacts = await Contact.find(after ? { ...audience, _id: { $gt: after } } : audience, { _id: 1 }).sort({ _id: 1 }).limit(PAGE_SIZE).lean();
    if (contacts.length === 0) break;
    const identities = (await ContactInbox.find({ inboxId: inbox._id, contactId: { $in: contacts.map((contact) => contact._id) } }).lean()) as Array<Stored<ContactInboxFields>>;
    for (const contact of contacts) {
      const contactInbox = identities.find((identity) => identity.contactId.equals(contact._id));
      if (contactInbox) await startCampaignConversation(services, { campaign, inbox, contactInbox });
      else skipped += 1;
    }
    after = contacts[contacts.length - 1]!._id;
    await recordProgress(campaign, audienceSize, skipped);
    await job.touch();
  }
  await recordProgress(campaign, audienceSize, skipped);
  await CampaignModel.updateOne({ _id: campaign._id }, { $set: { status: 'completed' } });
  services.logger.info({ campaignId: data.campaignId }, 'one-off campaign sent');
}

/** Counted from what was written, not added up per run: a repeated or resumed run reports the same. */
async function recordProgress(campaign: Stored<CampaignFields>, audience: number, skipped: number): Promise<void> {
  const sent = await Message.countDocuments({ conversationId: { $in: await campaignConversationIds(campaign) }, messageType: { $in: ['outgoing', 'template'] } });
  await CampaignModel.updateOne({ _id: campaign._id }, { $set: { progress: { audience, sent, skipped } } });
}

async function campaignConversationIds(campaign: Stored<CampaignFields>): Promise<Types.ObjectId[]> {
  return (await Conversation.find({ campaignId: campaign._id }, { _id: 1 }).lean()).map((conversation) => conversation._id);
}

export function defineRunOneOffCampaignJob(services: Services): void {
  services.scheduler.define<RunOneOffCampaignData>(JOB_NAMES.runOneOffCampaign, (data, job) => runOneOffCampaign(services, data, job));
}

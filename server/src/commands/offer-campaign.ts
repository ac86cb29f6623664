// A visitor's page view (widget.page_viewed): evaluates the rules listening to page views — the
// inbox's campaigns — and answers with the campaign to show above the launcher, if one matches, or
// when to ask again, if one would match after more time on the page. Closing a bubble snoozes
// campaigns for an hour (and nothing is evaluated meanwhile).
import { matchesUrlPattern, textForLocale, type Campaign, type OngoingCampaign } from '@charla/rules';
import type { Types } from 'mongoose';
import type { VisitorPage } from '../automation/facts.ts';
import { runRules } from '../automation/run-rules.ts';
import { CampaignModel, type CampaignFields } from '../db/models/campaign.ts';
import type { ContactFields } from '../db/models/contact.ts';
import { ContactInbox, type ContactInboxFields } from '../db/models/contact-inbox.ts';
import type { InboxFields } from '../db/models/inbox.ts';
import type { ContactActor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import type { Services } from '../services.ts';

export const CAMPAIGN_SNOOZE_MS = 60 * 60 * 1000;

export interface OfferCampaignProps {
  inbox: Stored<InboxFields>;
  contact: Stored<ContactFields>;
  contactInbox: Stored<ContactInboxFields>;
  page: VisitorPage;
  performedBy: ContactActor;
}

export interface CampaignOffer {
  campaign: (Stored<CampaignFields> & { text: string }) | null;
  /** Ask again after this many seconds on the page: a campaign of this page needs more time. */
  nextCheckInSeconds: number | null;
}

export async function offerCampaign(services: Services, props: OfferCampaignProps): Promise<CampaignOffer> {
  const { inbox, contact, contactInbox, page } = props;
  const snoozed = contactInbox.campaignsSnoozedUntil && contactInbox.campaignsSnoozedUntil.getTime() > services.now().getTime();
  if (snoozed) return { campaign: null, nextCheckInSeconds: null };
  const ran = await runRules(
    services,
    {
      event: 'widget.page_viewed',
      accountId: inbox.accountId,
      conversation: null,
      message: null,
      contact,
      inbox,
      // A view that says nothing of time is the moment the page opened.
      visitor: { timeOnPage: 0, ...page },
    },
    props.performedBy,
  );

  const offeredId = ran.flatMap((match) => match.actions).find((action) => action.type === 'show_campaign')?.params.campaignId;
  if (offeredId) {
    const campaign = (await CampaignModel.findOne({ _id: offeredId, accountId: inbox.accountId, inboxId: inbox._id, enabled: true }).lean()) as Stored<CampaignFields> | null;
    if (campaign) return { campaign: { ...campaign, text: textForLocale((campaign.document as Campaign).message, inbox.settings?.locale ?? 'en') }, nextCheckInSeconds: null };
  }
  return { campaign: null, nextCheckInSeconds: await nextCheck(inbox._id, page) };
}

/** Seconds until the soonest campaign of this page would be due by time on the page. */
async function nextCheck(inboxId: Types.ObjectId, page: VisitorPage): Promise<number | null> {
  const elapsed = page.timeOnPage ?? 0;
  const campaigns = await CampaignModel.find({ inboxId, kind: { $ne: 'one_off' }, enabled: true }, { document: 1 }).limit(200).lean();
  const waits = campaigns
    .map((campaign) => (campaign.document as OngoingCampaign).triggerRules)
    .filter((trigger) => trigger.timeOnPage > elapsed && matchesUrlPattern(page.pageUrl ?? '', trigger.url))
    .map((trigger) => trigger.timeOnPage - elapsed);
  return waits.length > 0 ? Math.min(...waits) : null;
}

export async function snoozeCampaigns(services: Services, contactInboxId: Types.ObjectId): Promise<Date> {
  const until = new Date(services.now().getTime() + CAMPAIGN_SNOOZE_MS);
  await ContactInbox.updateOne({ _id: contactInboxId }, { $set: { campaignsSnoozedUntil: until } });
  return until;
}

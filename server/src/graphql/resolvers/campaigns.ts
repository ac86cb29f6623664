// Resolvers for schema/campaigns.graphql: administrators manage a web inbox's ongoing campaigns
// (the visitor side, pageViewed and dismissCampaigns, is with the widget's resolvers).
import { parseId } from '../../auth/input.ts';
import { deleteCampaign, saveCampaign } from '../../commands/save-campaign.ts';
import { CampaignModel, type CampaignFields } from '../../db/models/campaign.ts';
import type { Stored } from '../../events/event-map.ts';
import { requireAdministrator } from '../../policies/index.ts';
import type { GraphQLContext } from '../context.ts';

export const campaignsResolvers = {
  Query: {
    campaigns: async (_parent: unknown, args: { inboxId?: unknown }, { viewer }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      const filter = args.inboxId == null ? { accountId: admin.accountId } : { accountId: admin.accountId, inboxId: parseId(args.inboxId, 'inboxId') };
      return CampaignModel.find(filter).sort({ _id: 1 }).limit(1_000).lean().exec();
    },
  },
  Mutation: {
    saveCampaign: async (_parent: unknown, args: { id?: unknown; inboxId: unknown; json: unknown }, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      return saveCampaign(services, {
        accountId: admin.accountId,
        inboxId: parseId(args.inboxId, 'inboxId'),
        campaignId: args.id == null ? undefined : parseId(args.id),
        json: args.json,
        performedBy: admin.actor,
      });
    },
    deleteCampaign: async (_parent: unknown, args: { id: unknown }, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      await deleteCampaign(services, { accountId: admin.accountId, campaignId: parseId(args.id), performedBy: admin.actor });
      return true;
    },
  },
  Campaign: {
    id: (campaign: Stored<CampaignFields>) => String(campaign._id),
    inboxId: (campaign: Stored<CampaignFields>) => String(campaign.inboxId),
    kind: (campaign: Stored<CampaignFields>) => campaign.kind ?? 'ongoing',
    progress: (campaign: Stored<CampaignFields>) => (campaign.kind === 'one_off' ? (campaign.progress ?? { audience: 0, sent: 0, skipped: 0 }) : null),
  },
};

// `campaigns`: ongoing web campaigns of a widget inbox — a message offered above the launcher on
// matching pages (see rules/src/campaigns.ts for the document).
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

const campaignSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    inboxId: { type: Schema.Types.ObjectId, required: true },
    title: { type: String, required: true },
    enabled: { type: Boolean, required: true },
    /** The checked document (defaults filled in). */
    document: { type: Schema.Types.Mixed, required: true },
  },
  { collection: 'campaigns', timestamps: true, minimize: false },
);
campaignSchema.index({ accountId: 1, inboxId: 1, _id: 1 });

export type CampaignFields = InferSchemaType<typeof campaignSchema>;
export type CampaignDoc = HydratedDocument<CampaignFields>;
export const CampaignModel = mongoose.model('Campaign', campaignSchema);

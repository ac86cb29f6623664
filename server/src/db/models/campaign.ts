// `campaigns`: ongoing web campaigns of a widget inbox — a message offered above the launcher on
// matching pages — and one-off campaigns — a message sent once, at a set time, to an audience
// (see rules/src/campaigns.ts for the document).
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

const campaignSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    inboxId: { type: Schema.Types.ObjectId, required: true },
    title: { type: String, required: true },
    kind: { type: String, enum: ['ongoing', 'one_off'], default: 'ongoing' },
    enabled: { type: Boolean, required: true },
    /** One-off campaigns: scheduled → running → completed. */
    status: { type: String, enum: ['scheduled', 'running', 'completed'], default: null },
    /** One-off campaigns: how many contacts of the audience got it, were skipped or failed. */
    progress: {
      audience: { type: Number, default: 0 },
      sent: { type: Number, default: 0 },
      skipped: { type: Number, default: 0 },
    },
    /** The checked document (defaults filled in). */
    document: { type: Schema.Types.Mixed, required: true },
  },
  { collection: 'campaigns', timestamps: true, minimize: false },
);
campaignSchema.index({ accountId: 1, inboxId: 1, _id: 1 });
campaignSchema.index({ accountId: 1, kind: 1, enabled: 1 });

export type CampaignFields = InferSchemaType<typeof campaignSchema>;
export type CampaignDoc = HydratedDocument<CampaignFields>;
export const CampaignModel = mongoose.model('Campaign', campaignSchema);

// `teams`: groups of agents a conversation can be assigned to.
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

const teamSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true, trim: true },
    description: { type: String, default: '' },
    memberIds: { type: [Schema.Types.ObjectId], default: [] },
    allowAutoAssign: { type: Boolean, default: true },
  },
  { collection: 'teams', timestamps: true },
);
teamSchema.index({ accountId: 1, name: 1 }, { unique: true });

export type TeamFields = InferSchemaType<typeof teamSchema>;
export type TeamDoc = HydratedDocument<TeamFields>;
export const Team = mongoose.model('Team', teamSchema);

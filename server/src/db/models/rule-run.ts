// `ruleRuns`: what automation did — each rule that matched an event, and how each of its actions
// went — so a rule that "does nothing" can be seen failing. `ruleFirings`: when a rule with a
// limit last fired for a conversation.
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const RUN_RETENTION_SECONDS = 30 * 24 * 60 * 60;

const ruleRunSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    /** A stored rule set's id, or `preset:<name>`. */
    ruleSetKey: { type: String, required: true },
    ruleId: { type: String, required: true },
    event: { type: String, required: true },
    conversationId: { type: Schema.Types.ObjectId, default: null },
    actions: {
      type: [{ _id: false, type: { type: String, required: true }, outcome: { type: String, enum: ['done', 'skipped', 'failed'], required: true }, detail: String }],
      default: [],
    },
    createdAt: { type: Date, required: true },
  },
  { collection: 'ruleRuns', minimize: false },
);
ruleRunSchema.index({ accountId: 1, ruleSetKey: 1, createdAt: -1 });
ruleRunSchema.index({ createdAt: 1 }, { expireAfterSeconds: RUN_RETENTION_SECONDS });

const ruleFiringSchema = new Schema(
  {
    ruleSetKey: { type: String, required: true },
    ruleId: { type: String, required: true },
    conversationId: { type: Schema.Types.ObjectId, required: true },
    firedAt: { type: Date, required: true },
  },
  { collection: 'ruleFirings' },
);
ruleFiringSchema.index({ conversationId: 1, ruleSetKey: 1, ruleId: 1 }, { unique: true });

export type RuleRunFields = InferSchemaType<typeof ruleRunSchema>;
export const RuleRun = mongoose.model('RuleRun', ruleRunSchema);
export const RuleFiring = mongoose.model('RuleFiring', ruleFiringSchema);

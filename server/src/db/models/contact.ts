// `contacts`: the people who write to an account, across all its inboxes.
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

const contactSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, default: '' },
    /** Lowercase when present; unique per account (a submitted e-mail merges into its owner). */
    email: { type: String, lowercase: true, trim: true },
    phone: { type: String },
    /** The site's own user id, set through `setUser` / `widgetSession(identity)`. */
    identifier: { type: String },
    avatarUrl: { type: String },
    customAttributes: { type: Schema.Types.Mixed, default: {} },
    /** Account labels on the person (audiences of one-off campaigns). */
    labels: { type: [String], default: [] },
    /** Browser, page, location and similar facts the widget reports. */
    additionalAttributes: { type: Schema.Types.Mixed, default: {} },
    blocked: { type: Boolean, default: false },
    lastActivityAt: { type: Date, default: () => new Date() },
  },
  { collection: 'contacts', timestamps: true, minimize: false },
);
contactSchema.index({ accountId: 1, email: 1 }, { unique: true, partialFilterExpression: { email: { $type: 'string' } } });
contactSchema.index({ accountId: 1, identifier: 1 }, { unique: true, partialFilterExpression: { identifier: { $type: 'string' } } });
// A campaign's audience: the account's contacts with a label, paged by _id.
contactSchema.index({ accountId: 1, labels: 1, _id: 1 });
// The contacts list: newest activity first, keyset-paged on (lastActivityAt, _id).
contactSchema.index({ accountId: 1, lastActivityAt: -1, _id: -1 });

export type ContactFields = InferSchemaType<typeof contactSchema>;
export type ContactDoc = HydratedDocument<ContactFields>;
export const Contact = mongoose.model('Contact', contactSchema);

// `contactInboxes`: a contact as seen by one inbox — its channel identity and, for the web widget,
// the visitor token the browser holds.
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

const contactInboxSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    contactId: { type: Schema.Types.ObjectId, required: true },
    inboxId: { type: Schema.Types.ObjectId, required: true },
    /** The channel's id for this person (widget: a random source id; e-mail: the address). */
    sourceId: { type: String, required: true },
    hmacVerified: { type: Boolean, default: false },
    /**
     * The visitor joined a contact the account already knew by typing its e-mail, unverified.
     * Anyone can type an address, so such a session never sees or overwrites what that contact
     * already holds (name, phone …).
     */
    claimedByEmail: { type: Boolean, default: false },
    /** The visitor closed a campaign bubble: no campaign is offered before this time. */
    campaignsSnoozedUntil: { type: Date, default: null },
    /** SHA-256 of the visitor token; the token itself is never stored. */
    visitorTokenHash: { type: String },
  },
  { collection: 'contactInboxes', timestamps: true },
);
contactInboxSchema.index({ inboxId: 1, sourceId: 1 }, { unique: true });
contactInboxSchema.index({ contactId: 1, inboxId: 1 });
contactInboxSchema.index(
  { visitorTokenHash: 1 },
  { unique: true, partialFilterExpression: { visitorTokenHash: { $type: 'string' } } },
);

export type ContactInboxFields = InferSchemaType<typeof contactInboxSchema>;
export type ContactInboxDoc = HydratedDocument<ContactInboxFields>;
export const ContactInbox = mongoose.model('ContactInbox', contactInboxSchema);

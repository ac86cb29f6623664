// Binds uploads to the conversation of the message that uses them. Only the uploader may use an
// upload, only in the inbox it was uploaded for, and only once.
import type { Types } from 'mongoose';
import { Attachment } from '../db/models/attachment.ts';
import { parseString } from '../auth/input.ts';
import { invalidInput } from '../errors.ts';
import type { AttachmentRef } from './create-message.ts';
import type { AttachmentUploader } from './store-attachment.ts';
import { ATTACHMENT_ID } from './store-attachment.ts';

export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

/** Upload ids from a GraphQL input: a bounded list of strings (their shape is checked when claimed). */
export function parseAttachmentIds(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidInput('attachmentIds', 'must be a list of ids');
  if (value.length > MAX_ATTACHMENTS_PER_MESSAGE) throw invalidInput('attachmentIds', `at most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments per message`);
  return value.map((id, index) => parseString(id, `attachmentIds[${index}]`, { max: 64 }));
}

export interface ClaimAttachmentsProps {
  attachmentIds: string[];
  uploader: AttachmentUploader;
  conversation: { _id: Types.ObjectId; accountId: Types.ObjectId; inboxId: Types.ObjectId };
}

/** Marks the uploads as used by this conversation and returns the refs a message stores. */
export async function claimAttachments({ attachmentIds, uploader, conversation }: ClaimAttachmentsProps): Promise<AttachmentRef[]> {
  const ids = [...new Set(attachmentIds)];
  if (ids.length > MAX_ATTACHMENTS_PER_MESSAGE) throw invalidInput('attachmentIds', `at most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments per message`);
  if (ids.some((id) => typeof id !== 'string' || !ATTACHMENT_ID.test(id))) throw invalidInput('attachmentIds', 'must be ids returned by the upload');

  const claimed: string[] = [];
  const refs: AttachmentRef[] = [];
  try {
    for (const id of ids) {
      // One atomic update per upload: two messages racing for the same upload cannot both win.
      const attachment = await Attachment.findOneAndUpdate(
        {
          _id: id,
          accountId: conversation.accountId,
          inboxId: conversation.inboxId,
          'uploader.type': uploader.type,
          'uploader.id': uploader.id,
          conversationId: null,
        },
        { $set: { conversationId: conversation._id } },
        { returnDocument: 'after' },
      ).lean();
      if (!attachment) throw invalidInput('attachmentIds', 'an attachment is unknown, not yours, for another inbox or already used');
      claimed.push(id);
      refs.push({ id: attachment._id, fileName: attachment.fileName, contentType: attachment.contentType, size: attachment.size });
    }
  } catch (error) {
    if (claimed.length > 0) await releaseAttachments(claimed, conversation._id);
    throw error;
  }
  return refs;
}

/** Gives uploads back when the message that claimed them could not be created. */
export async function releaseAttachments(ids: string[], conversationId: Types.ObjectId): Promise<void> {
  await Attachment.updateMany({ _id: { $in: ids }, conversationId }, { $set: { conversationId: null } });
}

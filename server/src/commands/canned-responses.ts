// Canned responses: saved replies agents insert with `/shortCode`. Every agent reads them; only
// administrators write them (as in Chatwoot). Short codes are unique per account.
import type { Types } from 'mongoose';
import { z } from 'zod';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import { CannedResponse, type CannedResponseDoc } from '../db/models/canned-response.ts';
import { AppError, notFound } from '../errors.ts';
import type { Actor } from '../events/actor.ts';
import type { Services } from '../services.ts';
import { parseInput } from './admin-input.ts';

const cannedResponseSchema = z.object({
  shortCode: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters')
    .regex(/^\S+$/, 'must not contain spaces'),
  content: z.string().trim().min(1, 'must not be empty').max(10_000, 'must be at most 10000 characters'),
});

export interface CannedResponseProps {
  accountId: Types.ObjectId;
  shortCode: string;
  content: string;
  performedBy: Actor;
}

const shortCodeTaken = (): AppError => new AppError('canned_response/exists', 'A canned response with this short code already exists');


export async function createCannedResponse(services: Services, props: CannedResponseProps): Promise<CannedResponseDoc> {
  const { shortCode, content } = parseInput(cannedResponseSchema, { shortCode: props.shortCode, content: props.content }, 'input');
  if (await CannedResponse.exists({ accountId: props.accountId, shortCode })) throw shortCodeTaken();
  let cannedResponse: CannedResponseDoc;
  try {
    cannedResponse = await CannedResponse.create({ accountId: props.accountId, shortCode, content });
  } catch (error) {
    if (isDuplicateKey(error)) throw shortCodeTaken();
    throw error;
  }
  services.bus.publish('settings.changed', { accountId: props.accountId, entity: 'canned_response', id: cannedResponse._id, action: 'created', performedBy: props.performedBy });
  return cannedResponse;
}

export async function updateCannedResponse(
  services: Services,
  props: CannedResponseProps & { cannedResponseId: Types.ObjectId },
): Promise<CannedResponseDoc> {
  const { shortCode, content } = parseInput(cannedResponseSchema, { shortCode: props.shortCode, content: props.content }, 'input');
  const taken = await CannedResponse.exists({ accountId: props.accountId, shortCode, _id: { $ne: props.cannedResponseId } });
  if (taken) throw shortCodeTaken();
  let cannedResponse: CannedResponseDoc | null;
  try {
    cannedResponse = await CannedResponse.findOneAndUpdate(
      { _id: props.cannedResponseId, accountId: props.accountId },
      { $set: { shortCode, content } },
      { returnDocument: 'after' },
    );
  } catch (error) {
    if (isDuplicateKey(error)) throw shortCodeTaken();
    throw error;
  }
  if (!cannedResponse) throw notFound('canned_response');
  services.bus.publish('settings.changed', { accountId: props.accountId, entity: 'canned_response', id: cannedResponse._id, action: 'updated', performedBy: props.performedBy });
  return cannedResponse;
}

export async function deleteCannedResponse(
  services: Services,
  props: { accountId: Types.ObjectId; cannedResponseId: Types.ObjectId; performedBy: Actor },
): Promise<boolean> {
  const { deletedCount } = await CannedResponse.deleteOne({ _id: props.cannedResponseId, accountId: props.accountId });
  if (deletedCount === 0) throw notFound('canned_response');
  services.bus.publish('settings.changed', { accountId: props.accountId, entity: 'canned_response', id: props.cannedResponseId, action: 'deleted', performedBy: props.performedBy });
  return true;
}

// A label: an account-wide tag for conversations. Titles are lowercase, unique per account, and
// made of letters, digits, "-" and "_" (as in Chatwoot), so they read well as tags.
import type { Types } from 'mongoose';
import { z } from 'zod';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import { Label, type LabelDoc } from '../db/models/label.ts';
import { AppError } from '../errors.ts';
import type { Actor } from '../events/actor.ts';
import type { Services } from '../services.ts';
import { hexColorSchema, parseInput } from './admin-input.ts';

export const labelTitleSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[\p{L}\p{N}_-]+$/u, 'may only use letters, digits, - and _');

export interface CreateLabelProps {
  accountId: Types.ObjectId;
  title: string;
  description?: string | null;
  color?: string | null;
  performedBy: Actor;
}

const labelExists = (): AppError => new AppError('label/exists', 'A label with this title already exists');

export async function createLabel(services: Services, props: CreateLabelProps): Promise<LabelDoc> {
  const title = parseInput(labelTitleSchema, props.title, 'title');
  const description = parseInput(z.string().max(1000), props.description ?? '', 'description');
  const color = parseInput(hexColorSchema, props.color ?? '#1f93ff', 'color');

  if (await Label.exists({ accountId: props.accountId, title })) throw labelExists();
  let label: LabelDoc;
  try {
    label = await Label.create({ accountId: props.accountId, title, description, color });
  } catch (error) {
    if (isDuplicateKey(error)) throw labelExists();
    throw error;
  }
  services.bus.publish('settings.changed', { accountId: props.accountId, entity: 'label', id: label._id, action: 'created', performedBy: props.performedBy });
  return label;
}

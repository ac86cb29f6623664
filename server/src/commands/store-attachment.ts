// Keeps an uploaded file: sniffs its real content type from the bytes, moves it under
// DATA_DIR/uploads with an unguessable id and records it. Also where attachment files are found
// and removed again (a deleted message drops its files).
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileTypeFromFile } from 'file-type';
import type { Types } from 'mongoose';
import { randomId } from '../auth/tokens.ts';
import { Attachment } from '../db/models/attachment.ts';
import type { Config } from '../config.ts';
import type { Services } from '../services.ts';

export interface AttachmentUploader {
  type: 'agent' | 'contact';
  id: Types.ObjectId;
}

export interface StoreAttachmentProps {
  accountId: Types.ObjectId;
  inboxId: Types.ObjectId;
  uploader: AttachmentUploader;
  /** The name the client gave; only shown, never used as a path. */
  fileName: string;
  /** Where the upload was spooled; moved away (or removed) by this command. */
  spooledPath: string;
  size: number;
}

export interface StoredAttachment {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
}

/** 32 random bytes in base64url: exactly 43 characters. */
export const ATTACHMENT_ID = /^[A-Za-z0-9_-]{43}$/;

export function uploadsDirectory(config: Pick<Config, 'dataDir'>): string {
  return join(config.dataDir, 'uploads');
}

export function attachmentPath(config: Pick<Config, 'dataDir'>, id: string): string {
  if (!ATTACHMENT_ID.test(id)) throw new Error('not an attachment id');
  return join(uploadsDirectory(config), id);
}

export async function storeAttachment(services: Services, props: StoreAttachmentProps): Promise<StoredAttachment> {
  const id = randomId(32);
  try {
    const contentType = await sniffContentType(props.spooledPath);
    await rename(props.spooledPath, attachmentPath(services.config, id));
    const fileName = cleanFileName(props.fileName);
    await Attachment.create({
      _id: id,
      accountId: props.accountId,
      inboxId: props.inboxId,
      uploader: props.uploader,
      fileName,
      contentType,
      size: props.size,
    });
    services.logger.info({ attachmentId: id, contentType, size: props.size }, 'attachment stored');
    return { id, fileName, contentType, size: props.size };
  } catch (error) {
    await rm(props.spooledPath, { force: true });
    await rm(attachmentPath(services.config, id), { force: true });
    throw error;
  }
}

/** Keeps a file that arrived as bytes (an e-mail's attachment, a file fetched from a channel). */
export async function storeAttachmentBytes(services: Services, props: Omit<StoreAttachmentProps, 'spooledPath' | 'size'> & { data: Buffer }): Promise<StoredAttachment> {
  const { data, ...rest } = props;
  await mkdir(uploadsDirectory(services.config), { recursive: true });
  const spooledPath = join(uploadsDirectory(services.config), `.upload-${randomId(16)}`);
  await writeFile(spooledPath, data);
  return storeAttachment(services, { ...rest, spooledPath, size: data.length });
}

/** Removes attachments' records and files (a deleted message drops its attachments). */
export async function deleteAttachments(services: Services, ids: string[]): Promise<void> {
  const valid = ids.filter((id) => ATTACHMENT_ID.test(id));
  if (valid.length === 0) return;
  await Attachment.deleteMany({ _id: { $in: valid } });
  await Promise.all(valid.map((id) => rm(attachmentPath(services.config, id), { force: true })));
}

/** What the bytes are, never what the client said: file-type's magic numbers, else text or binary. */
async function sniffContentType(path: string): Promise<string> {
  const detected = await fileTypeFromFile(path);
  if (detected) return detected.mime;
  return (await looksLikeText(path)) ? 'text/plain' : 'application/octet-stream';
}

async function looksLikeText(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(8192), 0, 8192, 0);
    const head = buffer.subarray(0, bytesRead);
    if (head.includes(0)) return false;
    // `stream: true` tolerates a character cut in half at the end of the sample.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  } finally {
    await file.close();
  }
}

function cleanFileName(name: string): string {
  // Keep the last path segment, no control characters, bounded length.
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 255);
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'file' : cleaned;
}

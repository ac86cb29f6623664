// Uploads (POST /uploads) and downloads (GET /attachments/:id) of message attachments. Uploads are
// sniffed and stored under unguessable ids; downloads go only to callers who may see the
// conversation (or hold a signed link from an e-mail transcript) and are served so that a browser
// never runs them: declared type from the bytes, nosniff, a CSP that allows nothing.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { Router, type Request, type Response } from 'express';
import { Types } from 'mongoose';
import { randomId } from '../auth/tokens.ts';
import { viewerFromAuthorization, type Viewer } from '../auth/viewer.ts';
import { ATTACHMENT_ID, attachmentPath, storeAttachment, uploadsDirectory } from '../commands/store-attachment.ts';
import { Attachment, type AttachmentFields } from '../db/models/attachment.ts';
import { Conversation } from '../db/models/conversation.ts';
import { Message } from '../db/models/message.ts';
import { attachmentSigningKey } from '../db/models/system-info.ts';
import { AppError } from '../errors.ts';
import { canSeeConversation, visibleToVisitor } from '../policies/index.ts';
import type { Services } from '../services.ts';

// Images browsers render without running anything; everything else downloads.
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp']);
// Room for multipart boundaries and the form fields around the file itself.
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

type StoredAttachment = AttachmentFields & { _id: string };

export function createAttachmentRouter(services: Services): Router {
  const router = Router();

  router.post('/uploads', async (request, response) => {
    try {
      await receiveUpload(services, request, response);
    } catch (error) {
      sendError(services, response, error);
    }
  });

  router.get('/attachments/:id', async (request, response) => {
    try {
      await serveAttachment(services, request, response);
    } catch (error) {
      sendError(services, response, error);
    }
  });

  return router;
}

/** A link to an attachment that works without a token until it expires (for e-mail transcripts). */
export async function signedAttachmentUrl(services: Services, attachmentId: string, ttlSeconds: number): Promise<string> {
  const expires = Math.floor(services.now().getTime() / 1000) + Math.max(1, Math.floor(ttlSeconds));
  const signature = await signatureFor(attachmentId, expires);
  return `${attachmentUrl(services, attachmentId)}?expires=${expires}&signature=${signature}`;
}

/** Where an attachment is downloaded with the API's Authorization header. */
export function attachmentUrl(services: Services, attachmentId: string): string {
  return `${services.config.publicUrl ?? ''}/attachments/${encodeURIComponent(attachmentId)}`;
}

async function signatureFor(attachmentId: string, expires: number): Promise<string> {
  return createHmac('sha256', await attachmentSigningKey()).update(`${attachmentId}.${expires}`).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Uploads

async function receiveUpload(services: Services, request: Request, response: Response): Promise<void> {
  const viewer = await viewerFromAuthorization(request.headers.authorization);
  if (viewer.kind === 'anonymous') throw new HttpError(401, 'auth/unauthenticated', 'Sign in first: the token is missing, invalid or expired');
  const limit = services.config.uploadLimitBytes;
  const declaredLength = Number(request.headers['content-length']);
  if (Number.isFinite(declaredLength) && declaredLength > limit + MULTIPART_OVERHEAD_BYTES) {
    // Refuse before reading a body that cannot fit; the connection closes instead of draining it.
    response.setHeader('Connection', 'close');
    throw tooLarge(limit);
  }
  if (!request.is('multipart/form-data')) throw new HttpError(400, 'input/invalid', 'Send the file as multipart/form-data in the field "file"');

  await mkdir(uploadsDirectory(services.config), { recursive: true });
  const received = await spoolUpload(request, limit, join(uploadsDirectory(services.config), `.upload-${randomId(16)}`));
  try {
    if (received.tooLarge) throw tooLarge(limit);
    if (!received.file) throw new HttpError(400, 'input/invalid', 'file: a file is required');
    if (received.file.size === 0) throw new HttpError(400, 'input/invalid', 'file: the file is empty');

    const target = await uploadTarget(viewer, received.fields.conversationId);
    const stored = await storeAttachment(services, {
      ...target,
      fileName: received.file.fileName,
      spooledPath: received.file.path,
      size: received.file.size,
    });
    response.status(201).json(stored);
  } finally {
    if (received.file) await rm(received.file.path, { force: true });
  }
}

interface ReceivedUpload {
  fields: Record<string, string>;
  file: { path: string; fileName: string; size: number } | undefined;
  tooLarge: boolean;
}

/** Streams the multipart body's `file` to disk (never more than `limit` + 1 bytes) and collects the fields. */
function spoolUpload(request: Request, limit: number, spoolPath: string): Promise<ReceivedUpload> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // busboy stops at (and reports) exactly `fileSize` bytes; one more tells "too large" from "fits".
      parser = busboy({ headers: request.headers, limits: { files: 1, fileSize: limit + 1, fields: 10, fieldSize: 1_000, parts: 12 } });
    } catch {
      reject(new HttpError(400, 'input/invalid', 'The multipart body could not be read'));
      return;
    }
    const received: ReceivedUpload = { fields: {}, file: undefined, tooLarge: false };
    const writes: Array<Promise<void>> = [];

    parser.on('field', (name, value) => {
      if (/^[A-Za-z]{1,40}$/.test(name)) received.fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || received.file) {
        stream.resume();
        return;
      }
      const file = { path: spoolPath, fileName: info.filename ?? 'file', size: 0 };
      received.file = file;
      stream.on('data', (chunk: Buffer) => (file.size += chunk.length));
      stream.on('limit', () => (received.tooLarge = true));
      writes.push(pipeline(stream, createWriteStream(spoolPath)));
    });
    parser.on('error', () => {
      void Promise.allSettled(writes).then(() => rm(spoolPath, { force: true }));
      reject(new HttpError(400, 'input/invalid', 'The multipart body could not be read'));
    });
    parser.on('close', () => {
      Promise.all(writes).then(
        () => resolve(received),
        (error: unknown) => void rm(spoolPath, { force: true }).finally(() => reject(error)),
      );
    });
    // A client that goes away mid-upload leaves no half-written file behind.
    request.on('close', () => {
      if (request.complete) return;
      request.unpipe(parser);
      parser.destroy();
      void Promise.allSettled(writes).then(() => rm(spoolPath, { force: true }));
      reject(new HttpError(400, 'input/invalid', 'The upload was interrupted'));
    });
    request.pipe(parser);
  });
}

interface UploadTarget {
  accountId: Types.ObjectId;
  inboxId: Types.ObjectId;
  uploader: { type: 'agent' | 'contact'; id: Types.ObjectId };
}

/** Agents upload into a conversation they may see; visitors into their own inbox (and conversation). */
async function uploadTarget(viewer: Exclude<Viewer, { kind: 'anonymous' }>, conversationIdField: string | undefined): Promise<UploadTarget> {
  if (viewer.kind === 'visitor') {
    if (conversationIdField !== undefined && conversationIdField !== '') {
      const conversation = await findConversation(conversationIdField);
      if (!(await canSeeConversation(viewer, conversation))) throw new HttpError(403, 'auth/forbidden', 'You may not access this conversation');
    }
    return { accountId: viewer.accountId, inboxId: viewer.inbox._id, uploader: { type: 'contact', id: viewer.contact._id } };
  }
  if (conversationIdField === undefined || conversationIdField === '') throw new HttpError(400, 'input/invalid', 'conversationId: is required');
  const conversation = await findConversation(conversationIdField);
  if (!(await canSeeConversation(viewer, conversation))) throw new HttpError(403, 'auth/forbidden', 'You may not access this conversation');
  return { accountId: conversation.accountId, inboxId: conversation.inboxId, uploader: { type: 'agent', id: viewer.user._id } };
}

async function findConversation(id: string) {
  if (!/^[0-9a-f]{24}$/i.test(id)) throw new HttpError(400, 'input/invalid', 'conversationId: must be an id');
  const conversation = await Conversation.findById(new Types.ObjectId(id), { accountId: 1, inboxId: 1, contactInboxId: 1 }).lean();
  if (!conversation) throw new HttpError(404, 'conversation/not_found', 'No such conversation');
  return conversation;
}

// ---------------------------------------------------------------------------------------------
// Downloads

async function serveAttachment(services: Services, request: Request, response: Response): Promise<void> {
  const id = String(request.params.id);
  const { expires, signature } = request.query;
  const signed = expires !== undefined || signature !== undefined;

  if (signed) {
    if (!(await validSignature(services, id, expires, signature))) throw new HttpError(403, 'auth/forbidden', 'The link is invalid or has expired');
  } else {
    const viewer = await viewerFromAuthorization(request.headers.authorization);
    if (viewer.kind === 'anonymous') throw new HttpError(401, 'auth/unauthenticated', 'Sign in first: the token is missing, invalid or expired');
    const attachment = await findAttachment(id);
    if (!(await maySeeAttachment(viewer, attachment))) throw new HttpError(403, 'auth/forbidden', 'You may not access this attachment');
    await sendFile(services, response, attachment);
    return;
  }
  await sendFile(services, response, await findAttachment(id));
}

async function findAttachment(id: string): Promise<StoredAttachment> {
  const attachment = ATTACHMENT_ID.test(id) ? await Attachment.findById(id).lean() : null;
  if (!attachment) throw new HttpError(404, 'attachment/not_found', 'No such attachment');
  return attachment as StoredAttachment;
}

async function validSignature(services: Services, id: string, expires: unknown, signature: unknown): Promise<boolean> {
  if (!ATTACHMENT_ID.test(id) || typeof expires !== 'string' || typeof signature !== 'string') return false;
  if (!/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(signature)) return false;
  if (Number(expires) * 1000 < services.now().getTime()) return false;
  const expected = Buffer.from(await signatureFor(id, Number(expires)), 'hex');
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

async function maySeeAttachment(viewer: Exclude<Viewer, { kind: 'anonymous' }>, attachment: StoredAttachment): Promise<boolean> {
  if (!attachment.accountId.equals(viewer.accountId)) return false;
  // Not yet sent with a message: only whoever uploaded it.
  if (!attachment.conversationId) {
    const uploaderId = viewer.kind === 'agent' ? viewer.user._id : viewer.contact._id;
    const uploader = attachment.uploader;
    return uploader?.type === (viewer.kind === 'agent' ? 'agent' : 'contact') && (uploader.id?.equals(uploaderId) ?? false);
  }
  const conversation = await Conversation.findById(attachment.conversationId, { accountId: 1, inboxId: 1, contactInboxId: 1 }).lean();
  if (!conversation || !(await canSeeConversation(viewer, conversation))) return false;
  if (viewer.kind === 'agent') return true;
  // A visitor sees the files of messages they may see, never those of private notes.
  const message = await Message.findOne(
    { conversationId: attachment.conversationId, 'attachments.id': attachment._id },
    { private: 1, messageType: 1 },
  ).lean();
  return message !== null && visibleToVisitor(message);
}

async function sendFile(services: Services, response: Response, attachment: StoredAttachment): Promise<void> {
  const path = attachmentPath(services.config, attachment._id);
  const size = await stat(path).then(
    (stats) => stats.size,
    () => undefined,
  );
  if (size === undefined) throw new HttpError(404, 'attachment/not_found', 'No such attachment');
  const inline = INLINE_TYPES.has(attachment.contentType);
  response.status(200);
  response.setHeader('Content-Type', attachment.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : attachment.contentType);
  response.setHeader('Content-Length', String(size));
  response.setHeader('Content-Disposition', contentDisposition(inline ? 'inline' : 'attachment', attachment.fileName));
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
  response.setHeader('Cache-Control', 'private, max-age=300');
  await pipeline(createReadStream(path), response);
}

function contentDisposition(kind: 'inline' | 'attachment', fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

// ---------------------------------------------------------------------------------------------
// Errors: the same `{ error: { code, message } }` shape as the rest of the HTTP side.

class HttpError extends AppError {
  constructor(
    readonly status: number,
    code: AppError['code'],
    message: string,
  ) {
    super(code, message);
  }
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'attachment/too_large', `The file is larger than the limit of ${limit} bytes`);
}

function sendError(services: Services, response: Response, error: unknown): void {
  if (response.headersSent) {
    services.logger.warn({ err: error }, 'attachment response failed after it started');
    response.destroy();
    return;
  }
  if (error instanceof HttpError) {
    response.status(error.status).json({ error: { code: error.code, message: error.message } });
    return;
  }
  if (error instanceof AppError) {
    const status = error.code === 'input/invalid' ? 400 : error.code === 'auth/unauthenticated' ? 401 : error.code === 'auth/forbidden' ? 403 : error.code.endsWith('/not_found') ? 404 : 400;
    response.status(status).json({ error: { code: error.code, message: error.message } });
    return;
  }
  services.logger.error({ err: error }, 'unexpected error in an attachment request');
  response.status(500).json({ error: { code: 'http/internal', message: 'Internal server error' } });
}

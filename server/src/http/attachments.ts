// Uploads (POST /uploads) and downloads (GET /attachments/:id) of message attachments.
import { Router } from 'express';
import type { Services } from '../services.ts';

export function createAttachmentRouter(_services: Services): Router {
  return Router();
}

// POST /channels/:inboxId/inbound: where a channel delivers contacts' messages (the API channel's
// integrators today). The inbox's adapter checks the request is authentic and turns the payload
// into messages; nothing is stored from a request that fails either check.
import { adapterFor, InboundRejected } from '@charla/channels';
import express, { Router, type Response } from 'express';
import { receiveChannelMessage } from '../commands/receive-channel-message.ts';
import { Inbox } from '../db/models/inbox.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../services.ts';
import { channelContext } from '../channels/context.ts';

const MAX_BODY_BYTES = 1024 * 1024;

export function createChannelInboundRouter(services: Services): Router {
  const router = Router();
  router.post('/channels/:inboxId/inbound', express.raw({ type: () => true, limit: MAX_BODY_BYTES }), async (request, response) => {
    try {
      const inboxId = String(request.params.inboxId);
      const inbox = /^[0-9a-f]{24}$/.test(inboxId) ? await Inbox.findById(inboxId) : null;
      const adapter = inbox ? adapterFor(inbox.channelType) : undefined;
      if (!inbox || !adapter) return reply(response, 404, 'inbox/not_found', 'No such channel inbox');
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const context = channelContext(services, inbox);
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), Array.isArray(value) ? value[0] : value]));
      if (!adapter.verify({ headers, rawBody }, context)) return reply(response, 401, 'channel/signature_invalid', 'The request is not signed with this inbox\'s secret');
      let payload: unknown;
      try {
        payload = JSON.parse(rawBody.toString('utf8'));
      } catch {
        return reply(response, 400, 'channel/payload_invalid', 'The body is not JSON');
      }
      const events = adapter.parseInbound(payload, context);
      const counts = { stored: 0, duplicates: 0, refused: 0 };
      for (const event of events) {
        const outcome = await receiveChannelMessage(services, { inbox, event });
        counts[outcome === 'stored' ? 'stored' : outcome === 'duplicate' ? 'duplicates' : 'refused'] += 1;
      }
      response.status(200).json(counts);
    } catch (error) {
      if (error instanceof InboundRejected) return reply(response, 400, 'channel/payload_invalid', `${error.path}: ${error.message}`, { field: error.path });
      // A file the sender's server did not hand over: nothing was stored, the sender may try again.
      if (error instanceof AppError && error.code === 'channel/attachment_unavailable') return reply(response, 502, error.code, error.message);
      if (error instanceof AppError) return reply(response, 422, error.code, error.message);
      services.logger.error({ err: error }, 'channel inbound failed');
      reply(response, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    }
  });
  return router;
}

function reply(response: Response, status: number, code: string, message: string, details?: Record<string, unknown>): void {
  response.status(status).json({ error: { code, message, ...(details && { details }) } });
}

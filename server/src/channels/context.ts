// What a channel adapter gets from the server for one inbox: its configuration and secret, the
// outbound HTTP client with the server's network policy, the mailer, stored attachments, and the clock.
import { readFile } from 'node:fs/promises';
import type { ChannelContext, HttpTransport } from '@charla/channels';
import { attachmentPath } from '../commands/store-attachment.ts';
import type { InboxFields } from '../db/models/inbox.ts';
import type { Services } from '../services.ts';

const CHANNEL_TIMEOUT_MS = 10_000;
/** Files are larger than API answers: a download, or a request that uploads one, has longer to finish. */
const DOWNLOAD_TIMEOUT_MS = 120_000;
/** Bodies over this carry a file (Telegram's sendDocument): they get the download's time. */
const UPLOAD_BODY_BYTES = 1024 * 1024;

export function channelContext(services: Services, inbox: Pick<InboxFields, 'channelConfig' | 'hmacSecret'>): ChannelContext<never> {
  const http: HttpTransport = (url, request) => services.outbound.post(url, request, { timeoutMs: request.body.length > UPLOAD_BODY_BYTES ? DOWNLOAD_TIMEOUT_MS : CHANNEL_TIMEOUT_MS });
  return {
    config: (inbox.channelConfig ?? {}) as never,
    secret: inbox.hmacSecret,
    http,
    mail: (message) => services.mailer.sendChannelMail(message),
    download: (url, { maxBytes }) => services.outbound.download(url, { timeoutMs: DOWNLOAD_TIMEOUT_MS, maxBytes }),
    readAttachment: (id) => readFile(attachmentPath(services.config, id)),
    now: () => services.now(),
  };
}

// Charla's own SMTP listener for e-mail inboxes (SMTP_INBOUND_PORT): takes mail only for the
// addresses of e-mail inboxes, refuses mail over SMTP_INBOUND_MAX_MB, parses it with mailparser
// and hands it to the e-mail adapter and receiveChannelMessage — once per inbox it was sent to.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { adapterFor, InboundRejected, type ParsedMail as ChannelMail } from '@charla/channels';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { channelContext } from '../channels/context.ts';
import { receiveChannelMessage } from '../commands/receive-channel-message.ts';
import { Conversation, type ConversationDoc } from '../db/models/conversation.ts';
import { Inbox, type InboxDoc } from '../db/models/inbox.ts';
import { AppError } from '../errors.ts';
import { replyTokenIn } from './reply-address.ts';
import type { Services } from '../services.ts';

/** More recipients in one mail than any e-mail inbox needs: the rest are told to try later (452). */
const MAX_RECIPIENTS = 20;
const MAX_TEXT_LENGTH = 1_000_000;

export interface InboundSmtpOptions {
  port: number;
  host: string;
  maxBytes: number;
  /** PEM files; with them the listener offers STARTTLS. */
  tls?: { certFile: string; keyFile: string };
}

export interface InboundSmtpListener {
  /** The bound port (the configured one, or the one picked for port 0). */
  port: number;
  close(): Promise<void>;
}

/** An SMTP reply code for an error handed to smtp-server's callbacks. */
function smtpError(responseCode: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode });
}

export async function startInboundSmtp(services: Services, options: InboundSmtpOptions): Promise<InboundSmtpListener> {
  const { logger } = services;
  const tls = options.tls ? { cert: await readFile(options.tls.certFile), key: await readFile(options.tls.keyFile) } : undefined;
  const server = new SMTPServer({
    // A mail exchanger for the inboxes' addresses: other mail servers deliver without logging in
    // (AUTH is for submitting mail, which this listener does not do). STARTTLS with a certificate.
    authOptional: true,
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...tls,
    size: options.maxBytes,
    logger: false,
    closeTimeout: 5_000,
    onRcptTo(address, session, callback) {
      if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) return callback(smtpError(452, 'Too many recipients'));
      recipientsOf(services, [address.address])
        .then((recipients) => callback(recipients.length > 0 ? undefined : smtpError(550, 'No such mailbox here')))
        .catch((error: unknown) => {
          logger.error({ err: error }, 'inbound mail: looking up a recipient failed');
          callback(smtpError(451, 'Try again later'));
        });
    },
    onData(stream, session, callback) {
      readMessage(stream)
        .then(async (raw) => {
          // Nothing of a mail over the limit is kept (a client that announced its SIZE was refused at MAIL FROM).
          if (!raw) return callback(smtpError(552, `Message exceeds the maximum size of ${options.maxBytes} bytes`));
          await deliver(services, raw, session);
          callback();
        })
        .catch((error: unknown) => {
          if (error instanceof InboundRejected) return callback(smtpError(554, `Cannot read this mail (${error.path}: ${error.message})`));
          if (error instanceof AppError && error.code === 'channel/not_the_contact') return callback(smtpError(550, error.message));
          logger.error({ err: error }, 'inbound mail failed');
          callback(smtpError(451, 'Try again later'));
        });
    },
  });
  server.on('error', (error) => logger.error({ err: error }, 'inbound SMTP listener error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  logger.info({ host: options.host, port, starttls: Boolean(tls) }, 'inbound SMTP listening');
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The mail's bytes, or null when it went over the size limit (the rest is drained, not kept). */
async function readMessage(stream: SMTPServerDataStream): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    if (!stream.sizeExceeded) chunks.push(chunk as Buffer);
  }
  return stream.sizeExceeded ? null : Buffer.concat(chunks);
}

/** Where mail to an address goes: an inbox, and the conversation when it is a reply address. */
interface Recipient {
  inbox: InboxDoc;
  conversation?: ConversationDoc;
}

/**
 * The recipients behind these addresses: e-mail inboxes by their address (kept in lower case by
 * the adapter's config schema), and conversations of e-mail and web widget inboxes by their reply
 * addresses.
 */
async function recipientsOf(services: Services, addresses: string[]): Promise<Recipient[]> {
  const recipients: Recipient[] = [];
  for (const address of new Set(addresses.map((value) => String(value).toLowerCase()))) {
    const token = replyTokenIn(services.config, address);
    if (token) {
      const conversation = await Conversation.findOne({ replyToken: token });
      const inbox = conversation ? await Inbox.findOne({ _id: conversation.inboxId, channelType: { $in: ['email', 'web_widget'] } }) : null;
      if (inbox && conversation) recipients.push({ inbox, conversation });
      continue;
    }
    const inbox = await Inbox.findOne({ channelType: 'email', 'channelConfig.address': address });
    if (inbox) recipients.push({ inbox });
  }
  // Mail to an inbox and to one of its conversations at once is one message.
  const byInbox = new Map<string, Recipient>();
  for (const recipient of recipients) {
    const key = String(recipient.inbox._id);
    if (!byInbox.get(key)?.conversation) byInbox.set(key, recipient);
  }
  return [...byInbox.values()];
}

async function deliver(services: Services, raw: Buffer, session: SMTPServerSession): Promise<void> {
  const parsed = await simpleParser(raw);
  const mail = channelMailOf(parsed, raw);
  const adapter = adapterFor('email')!;
  for (const { inbox, conversation } of await recipientsOf(services, session.envelope.rcptTo.map((recipient) => recipient.address))) {
    // A web widget inbox has no e-mail configuration of its own: the e-mail adapter reads the mail all the same.
    for (const event of adapter.parseInbound(mail, channelContext(services, inbox))) {
      const outcome = await receiveChannelMessage(services, { inbox, event, ...(conversation && { conversation }) });
      services.logger.info({ inboxId: String(inbox._id), messageId: event.message.externalId, outcome, autoReply: event.message.autoReply ?? false }, 'inbound mail');
    }
  }
}

/** mailparser's result in the shape the e-mail adapter reads. */
function channelMailOf(parsed: ParsedMail, raw: Buffer): ChannelMail {
  const from = parsed.from?.value[0];
  const contentType = parsed.headers.get('content-type') as { value?: string } | string | undefined;
  const autoSubmitted = parsed.headers.get('auto-submitted');
  return {
    from: { address: from?.address ?? '', ...(from?.name && { name: from.name }) },
    to: addressesOf(parsed.to).slice(0, 100),
    // A mail without a Message-ID still gets a stable one: the same bytes delivered twice are one message.
    messageId: messageIdsIn(parsed.messageId)[0] ?? `<${createHash('sha256').update(raw).digest('hex')}@charla.invalid>`,
    ...(messageIdsIn(parsed.inReplyTo)[0] && { inReplyTo: messageIdsIn(parsed.inReplyTo)[0] }),
    references: messageIdsIn(parsed.references).slice(-100),
    subject: (parsed.subject ?? '').slice(0, 998),
    text: (parsed.text ?? '').slice(0, MAX_TEXT_LENGTH),
    ...(typeof autoSubmitted === 'string' && { autoSubmitted: autoSubmitted.slice(0, 100) }),
    isBounce: (typeof contentType === 'string' ? contentType : contentType?.value ?? '').toLowerCase() === 'multipart/report',
    // A delivery report's parts are the report and the returned mail, not files anyone sent.
    attachments: parsed.attachments.filter((attachment) => !attachment.contentType.startsWith('message/delivery-status')).map((attachment) => ({ fileName: attachment.filename ?? fileNameFor(attachment.contentType), data: attachment.content })),
  };
}

/** A name for a file the mail did not name ("attachment.pdf"). */
function fileNameFor(contentType: string): string {
  const subtype = /^[\w.+-]+\/([\w.+-]+)$/.exec(contentType)?.[1];
  return subtype ? `attachment.${subtype.replace(/^.*\+/, '')}` : 'attachment';
}

function addressesOf(value: AddressObject | AddressObject[] | undefined): string[] {
  const objects = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return objects.flatMap((object) => object.value.map((address) => address.address ?? '')).filter(Boolean);
}

/** The "<id@host>" tokens in a header (mailparser gives a string or a list of them). */
function messageIdsIn(value: string | string[] | undefined): string[] {
  const text = Array.isArray(value) ? value.join(' ') : (value ?? '');
  return [...new Set(text.match(/<[^<>\s]+>/g) ?? [])];
}

// The channel adapter contract: what a channel (e-mail, the API channel, Telegram …) tells the
// server and does for it. An adapter never opens connections itself — the server hands it an HTTP
// transport that enforces its network policy — and never touches the database: inbound payloads
// become InboundEvents, outbound messages go out through `send`.
import type { z } from 'zod';

export interface ChannelCapabilities {
  attachments: boolean;
  typing: boolean;
  readReceipts: boolean;
  /** Whether Charla may write first (one-off campaigns), not only answer. */
  canInitiate: boolean;
  /** How long after the contact's last message a reply may still be sent; null = no limit. */
  replyWindowHours: number | null;
}

/** A request as it reached the server's channel endpoint. */
export interface InboundRequest {
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The body exactly as received (signatures are computed over it). */
  rawBody: Buffer;
}

export interface InboundContact {
  /** The channel's id for this person (an address, a user id …); unique per inbox. */
  sourceId: string;
  name?: string;
  email?: string;
  phone?: string;
}

export interface InboundEvent {
  kind: 'message';
  contact: InboundContact;
  message: {
    /** The channel's id of the message; a second event with the same id is the same message. */
    externalId: string;
    content: string;
    /**
     * Ids of earlier messages this one answers (e-mail: In-Reply-To and References). When present
     * the server threads by them — into the conversation holding one of them, else a new one.
     */
    threadIds?: string[];
    subject?: string;
    /** Written by a machine (an out-of-office answer, a bounce): stored, but it never reopens or triggers rules. */
    autoReply?: boolean;
    /** The message as received, when `content` is a cleaned-up part of it (quoted history removed). */
    original?: string;
    attachments?: InboundAttachment[];
  };
}

/** A file that came with a contact's message: its bytes, or the channel's reference to fetch them by. */
export interface InboundAttachment {
  /** As the sender named it; shown, never used as a path. */
  fileName: string;
  /** The bytes, when the payload carries them (e-mail). */
  data?: Buffer;
  /** The channel's id of the file, fetched with the adapter's `fetchAttachment` (Telegram's file_id). */
  ref?: string;
  /** The size the channel states before fetching, when it states one: a file over the limit is not fetched. */
  size?: number;
  /** Why the channel cannot hand the file over at all (Telegram's bots cannot download files over 20 MB): noted on the message as skipped, never fetched. */
  skipped?: string;
}

export interface OutboundMessage {
  /** Stable across retries: the receiving side uses it to drop repeats. */
  deliveryId: string;
  conversation: { id: string; displayId: number };
  contact: { sourceId: string; name: string; email: string | null };
  message: {
    id: string;
    /** Markdown, as agents write it. */
    content: string;
    contentType: string;
    createdAt: string;
    sender: { type: string; name: string | null };
    attachments: OutboundAttachment[];
  };
  /** For adapters that thread replies (`threadsReplies`): the conversation's subject and earlier message ids, oldest first. */
  thread?: OutboundThread;
}

export interface OutboundAttachment {
  /** Read its bytes with the context's `readAttachment`. */
  id: string;
  fileName: string;
  contentType: string;
  size: number;
  /** A signed download link that works without signing in for days (for receivers that fetch files themselves). */
  url: string;
}

export interface OutboundThread {
  subject: string | null;
  /** The contact's latest message id, which this one answers. */
  inReplyTo: string | null;
  references: string[];
  /** The conversation's own reply address, when the server has one (mail to it lands in the conversation). */
  replyTo?: string;
}

/** An e-mail as the server's mailer sends it; header values are plain text, never raw header lines. */
export interface OutgoingMail {
  from: { address: string; name?: string };
  to: { address: string; name?: string };
  subject: string;
  text: string;
  html?: string;
  messageId: string;
  inReplyTo?: string;
  references?: string[];
  replyTo?: string;
  attachments?: Array<{ fileName: string; contentType: string; content: Buffer }>;
}

/** The server's mailer (SMTP_URL, or the outbox folder). */
export type MailTransport = (message: OutgoingMail) => Promise<{ messageId: string }>;

export interface HttpResponse {
  status: number;
  body: string;
}

/** The server's HTTP client, with its network policy (no private addresses unless allowed). */
export type HttpTransport = (url: string, request: { body: Buffer; headers: Record<string, string> }) => Promise<HttpResponse>;

export interface ChannelContext<Config> {
  config: Config;
  /** The inbox's secret: signs what leaves and checks what arrives. */
  secret: string;
  http: HttpTransport;
  /** Present when the server can send e-mail (always, in Charla: SMTP or the outbox folder). */
  mail?: MailTransport;
  /** GETs a file with the same network policy; rejects when the answer is over `maxBytes`. */
  download?(url: string, options: { maxBytes: number }): Promise<{ status: number; data: Buffer }>;
  /** The bytes of a stored attachment of the message being sent. */
  readAttachment?(id: string): Promise<Buffer>;
  now(): Date;
}

export interface ChannelAdapter<Config = unknown> {
  type: string;
  capabilities: ChannelCapabilities;
  /** Whether an inbox with this configuration sends messages out at all (absent: always). */
  sendsWith?(config: Config): boolean;
  /** Whether `send` needs `outbound.thread` (the conversation's subject and message ids). */
  threadsReplies?: boolean;
  /** The inbox's channelConfig, checked when an inbox is created or changed. */
  configSchema: z.ZodType<Config>;
  /** Whether an inbound request really comes from the channel (signature, secret token …). */
  verify(request: InboundRequest, context: ChannelContext<Config>): boolean;
  /** The events in an inbound payload; throws InboundRejected for a payload it cannot take. */
  parseInbound(payload: unknown, context: ChannelContext<Config>): InboundEvent[];
  /**
   * Fetches an inbound attachment's bytes by its `ref` (for channels whose payloads only name their files).
   * Throws AttachmentSkipped for a file it can never get (the message is kept without it); any other
   * error refuses the whole message, so the channel delivers it again.
   */
  fetchAttachment?(ref: string, context: ChannelContext<Config>, options: { maxBytes: number }): Promise<Buffer>;
  /** Sends one message; throws DeliveryFailed (retryable or not) when it does not get through. */
  send(outbound: OutboundMessage, context: ChannelContext<Config>): Promise<{ externalId: string }>;
}

/** An inbound payload the channel cannot take; `path` names the field. */
export class InboundRejected extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** A file `fetchAttachment` will never get, however often it tries (over the channel's own limit): the message is kept without it, with this reason. */
export class AttachmentSkipped extends Error {}

export class DeliveryFailed extends Error {
  constructor(
    message: string,
    /** False when trying again cannot help (no address to send to, a refused target). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

// Sends e-mail through SMTP (nodemailer) when SMTP_URL is set; otherwise writes each message as an
// .eml file under DATA_DIR/outbox so a fresh install works and nothing is silently dropped.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OutgoingMail } from '@charla/channels';
import nodemailer from 'nodemailer';
import type { Logger } from '../logger.ts';

export interface OutgoingEmail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** Shown as the sender (an inbox's name) with MAIL_FROM's address. */
  fromName?: string | null;
  replyTo?: string | null;
}

export interface Mailer {
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
  /** A channel's mail: its own From and Message-ID, threaded with In-Reply-To / References. */
  sendChannelMail(mail: OutgoingMail): Promise<{ messageId: string }>;
}

/** nodemailer's options for a channel's mail; nodemailer encodes every value as a header value, never as raw lines. */
function channelMailOptions(mail: OutgoingMail) {
  return {
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    ...(mail.html !== undefined && { html: mail.html }),
    messageId: mail.messageId,
    ...(mail.inReplyTo && { inReplyTo: mail.inReplyTo }),
    ...(mail.references && mail.references.length > 0 && { references: mail.references }),
    ...(mail.replyTo && { replyTo: mail.replyTo }),
    ...(mail.attachments && { attachments: mail.attachments.map((file) => ({ filename: file.fileName, contentType: file.contentType, content: file.content })) }),
  };
}

export interface MailerOptions {
  smtpUrl: string | undefined;
  from: string;
  outboxDir: string;
  logger: Logger;
}

/** nodemailer's options for one of Charla's own e-mails (transcripts, notifications, continuity). */
function ownMailOptions(from: string, { fromName, replyTo, ...email }: OutgoingEmail) {
  const address = /<([^<>\s]+)>\s*$/.exec(from)?.[1] ?? from;
  return { from: fromName ? { name: fromName, address } : from, ...email, ...(replyTo && { replyTo }) };
}

export function createMailer({ smtpUrl, from, outboxDir, logger }: MailerOptions): Mailer {
  if (smtpUrl) {
    const transport = nodemailer.createTransport(smtpUrl);
    return {
      async send(email) {
        const info = await transport.sendMail(ownMailOptions(from, email));
        logger.info({ to: email.to, subject: email.subject, messageId: info.messageId }, 'e-mail sent');
        return { messageId: info.messageId };
      },
      async sendChannelMail(mail) {
        const info = await transport.sendMail(channelMailOptions(mail));
        logger.info({ to: mail.to.address, messageId: info.messageId }, 'channel e-mail sent');
        return { messageId: info.messageId };
      },
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const writeToOutbox = async (options: Parameters<typeof transport.sendMail>[0]) => {
    const info = await transport.sendMail(options);
    await mkdir(outboxDir, { recursive: true });
    const file = join(outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${info.messageId.replace(/[^\w.-]/g, '')}.eml`);
    await writeFile(file, info.message as Buffer);
    logger.info({ to: options.to, subject: options.subject, file }, 'e-mail written to the outbox folder (SMTP_URL is not set)');
    return { messageId: info.messageId };
  };
  return {
    send: (email) => writeToOutbox(ownMailOptions(from, email)),
    sendChannelMail: (mail) => writeToOutbox(channelMailOptions(mail)),
  };
}

// Per-conversation reply addresses, reply+<token>@INBOUND_EMAIL_DOMAIN: mail to one lands in its
// conversation whatever its headers say (web widget conversations continued by e-mail, e-mail
// conversations whose client dropped In-Reply-To). The token is 128 random bits: knowing it means
// having received mail from the conversation.
import { randomBytes } from 'node:crypto';
import type { Types } from 'mongoose';
import type { Config } from '../config.ts';
import { Conversation } from '../db/models/conversation.ts';

const REPLY_LOCAL_PART = /^reply\+([0-9a-f]{32})$/;

/** The conversation's reply address, its token made on first use; null when no domain brings mail to Charla. */
export async function replyAddressOf(config: Pick<Config, 'inboundEmailDomain'>, conversation: { _id: Types.ObjectId; replyToken?: string | null }): Promise<string | null> {
  if (!config.inboundEmailDomain) return null;
  if (conversation.replyToken) return `reply+${conversation.replyToken}@${config.inboundEmailDomain}`;
  // Of two racing, the first stored token wins.
  await Conversation.updateOne({ _id: conversation._id, replyToken: { $exists: false } }, { $set: { replyToken: randomBytes(16).toString('hex') } }, { timestamps: false });
  const token = (await Conversation.findById(conversation._id, { replyToken: 1 }).lean())?.replyToken;
  return token ? `reply+${token}@${config.inboundEmailDomain}` : null;
}

/** The token of a reply address on INBOUND_EMAIL_DOMAIN, else null. */
export function replyTokenIn(config: Pick<Config, 'inboundEmailDomain'>, address: string): string | null {
  const lowered = address.toLowerCase();
  const at = lowered.lastIndexOf('@');
  if (!config.inboundEmailDomain || at < 1 || lowered.slice(at + 1) !== config.inboundEmailDomain) return null;
  return REPLY_LOCAL_PART.exec(lowered.slice(0, at))?.[1] ?? null;
}

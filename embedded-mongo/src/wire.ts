// MongoDB wire protocol framing: OP_MSG (body and document-sequence sections), the legacy
// OP_QUERY used for the first handshake, and the OP_REPLY answering it.
import { deserialize, serialize, type Document } from 'bson';
import type { Doc } from './bson-values.ts';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const MAX_MESSAGE_BYTES = 48_000_000;
export const HEADER_BYTES = 16;

const CHECKSUM_PRESENT = 1 << 0;
const MORE_TO_COME = 1 << 1;

export interface Header {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export interface Request {
  header: Header;
  /** The command document, with document-sequence sections merged in as arrays. */
  command: Doc;
  /** OP_MSG moreToCome: the client expects no reply. */
  moreToCome: boolean;
  legacy: boolean;
}

export class ProtocolError extends Error {}

export function readHeader(buffer: Buffer, offset = 0): Header {
  return {
    length: buffer.readInt32LE(offset),
    requestId: buffer.readInt32LE(offset + 4),
    responseTo: buffer.readInt32LE(offset + 8),
    opCode: buffer.readInt32LE(offset + 12),
  };
}

function readCString(buffer: Buffer, offset: number, end: number): [string, number] {
  const zero = buffer.indexOf(0, offset);
  if (zero < 0 || zero >= end) throw new ProtocolError('unterminated cstring');
  return [buffer.toString('utf8', offset, zero), zero + 1];
}

function readDocument(buffer: Buffer, offset: number, end: number): [Doc, number] {
  if (offset + 5 > end) throw new ProtocolError('truncated document');
  const size = buffer.readInt32LE(offset);
  if (size < 5 || offset + size > end) throw new ProtocolError('invalid document length');
  const doc = deserialize(buffer.subarray(offset, offset + size)) as Doc;
  return [doc, offset + size];
}

/** Parses one whole message (header included). Throws ProtocolError on anything malformed. */
export function parseMessage(message: Buffer): Request {
  const header = readHeader(message);
  if (header.opCode === OP_MSG) {
    const flags = message.readUInt32LE(HEADER_BYTES);
    const end = flags & CHECKSUM_PRESENT ? message.length - 4 : message.length;
    let offset = HEADER_BYTES + 4;
    let body: Doc | undefined;
    const sequences: Array<[string, Doc[]]> = [];
    while (offset < end) {
      const kind = message[offset++];
      if (kind === 0) {
        if (body) throw new ProtocolError('more than one body section');
        [body, offset] = readDocument(message, offset, end);
      } else if (kind === 1) {
        if (offset + 4 > end) throw new ProtocolError('truncated section');
        const size = message.readInt32LE(offset);
        const sectionEnd = offset + size;
        if (size < 5 || sectionEnd > end) throw new ProtocolError('invalid section length');
        let identifier: string;
        [identifier, offset] = readCString(message, offset + 4, sectionEnd);
        const docs: Doc[] = [];
        while (offset < sectionEnd) {
          let doc: Doc;
          [doc, offset] = readDocument(message, offset, sectionEnd);
          docs.push(doc);
        }
        sequences.push([identifier, docs]);
      } else {
        throw new ProtocolError(`unknown section kind ${kind}`);
      }
    }
    if (!body) throw new ProtocolError('OP_MSG without a body section');
    for (const [identifier, docs] of sequences) body[identifier] = docs;
    return { header, command: body, moreToCome: (flags & MORE_TO_COME) !== 0, legacy: false };
  }
  if (header.opCode === OP_QUERY) {
    let offset = HEADER_BYTES + 4;
    let collection: string;
    [collection, offset] = readCString(message, offset, message.length);
    offset += 8; // numberToSkip, numberToReturn
    const [query] = readDocument(message, offset, message.length);
    if (!collection.endsWith('.$cmd')) throw new ProtocolError('OP_QUERY is only supported for commands');
    // Commands may arrive wrapped as {$query: {...}, $readPreference: ...}.
    const command = (query.$query && typeof query.$query === 'object' ? query.$query : query) as Doc;
    command.$db = collection.slice(0, -'.$cmd'.length);
    return { header, command, moreToCome: false, legacy: true };
  }
  throw new ProtocolError(`unsupported opCode ${header.opCode}`);
}

export function encodeMessage(requestId: number, responseTo: number, reply: Document): Buffer {
  const body = serialize(reply);
  const out = Buffer.allocUnsafe(HEADER_BYTES + 5 + body.length);
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(OP_MSG, 12);
  out.writeUInt32LE(0, 16);
  out[20] = 0;
  out.set(body, 21);
  return out;
}

export function encodeReply(requestId: number, responseTo: number, reply: Document): Buffer {
  const body = serialize(reply);
  const out = Buffer.allocUnsafe(HEADER_BYTES + 20 + body.length);
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(OP_REPLY, 12);
  out.writeInt32LE(0, 16); // responseFlags
  out.writeBigInt64LE(0n, 20); // cursorID
  out.writeInt32LE(0, 28); // startingFrom
  out.writeInt32LE(1, 32); // numberReturned
  out.set(body, 36);
  return out;
}

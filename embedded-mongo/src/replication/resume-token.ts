// Change stream resume tokens: {_data: hex}, opaque to clients. The hex holds the cluster time,
// the history sequence number, the history's epoch and whether the token is an invalidate's, all
// fixed-width and big-endian, so tokens compare as strings in event order (as mongod's KeyString
// tokens do).
import { Timestamp } from 'bson';
import { isPlainDocument, type Doc } from '../bson-values.ts';
import { MongoCommandError } from '../errors.ts';

export interface ResumePoint {
  clusterTime: Timestamp;
  /** Every history entry up to and including this sequence number has been seen. */
  seq: number;
  /** Which history the token comes from: one kept in memory starts afresh with each server start. */
  epoch: number;
  /** The token of an invalidate event: only startAfter may continue from it. */
  fromInvalidate: boolean;
}

// '82' is the type byte mongod's tokens start with (a Timestamp); the format after it is ours.
const PREFIX = '82';
const TOKEN = /^82([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{16})([0-9A-F]{8})(0[01])$/;

const hex = (value: number, digits: number) => value.toString(16).toUpperCase().padStart(digits, '0');

export function encodeResumeToken(point: ResumePoint): Doc {
  const data = PREFIX + hex(point.clusterTime.t, 8) + hex(point.clusterTime.i, 8) + hex(point.seq, 16) + hex(point.epoch, 8) + (point.fromInvalidate ? '01' : '00');
  return { _data: data };
}

export function decodeResumeToken(token: unknown, option: string): ResumePoint {
  const data = isPlainDocument(token) ? token._data : undefined;
  const match = typeof data === 'string' ? TOKEN.exec(data) : null;
  if (!match) throw new MongoCommandError('InvalidResumeToken', `The '${option}' option of $changeStream is not a resume token of this server`);
  return {
    clusterTime: new Timestamp({ t: Number.parseInt(match[1]!, 16), i: Number.parseInt(match[2]!, 16) }),
    seq: Number.parseInt(match[3]!, 16),
    epoch: Number.parseInt(match[4]!, 16),
    fromInvalidate: match[5] === '01',
  };
}

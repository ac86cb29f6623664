// Retryable writes: the reply of the latest write per session (lsid, txnNumber), so a write the
// driver retries after a lost reply is answered again instead of being applied twice.
import { isPlainDocument, keyOf, toNumber, type Doc } from '../bson-values.ts';
import { MongoCommandError } from '../errors.ts';

/** Sessions remembered at most; the oldest is forgotten first (sessions expire after 30 min in mongod). */
const MAX_SESSIONS = 10_000;

export interface RetryableWrite {
  session: string;
  txnNumber: number;
}

export class RetryableWrites {
  private readonly latest = new Map<string, { txnNumber: number; reply: Doc | undefined }>();

  /** The session and transaction number of a command, when it carries both. */
  static of(command: Doc): RetryableWrite | undefined {
    if (!isPlainDocument(command.lsid) || command.txnNumber === undefined) return undefined;
    const txnNumber = toNumber(command.txnNumber);
    if (!Number.isSafeInteger(txnNumber) || txnNumber < 0) throw new MongoCommandError('BadValue', `Invalid txnNumber ${String(command.txnNumber)}`);
    return { session: keyOf(command.lsid.id), txnNumber };
  }

  /** The reply already given to this write, if it ran; throws if the session moved past it. */
  replayed(write: RetryableWrite): Doc | undefined {
    const seen = this.latest.get(write.session);
    if (!seen) return undefined;
    if (write.txnNumber < seen.txnNumber) {
      throw new MongoCommandError(
        'TransactionTooOld',
        `Retryable write with txnNumber ${write.txnNumber} is prohibited on session because a newer retryable write with txnNumber ${seen.txnNumber} has already started on this session.`,
      );
    }
    return write.txnNumber === seen.txnNumber ? seen.reply : undefined;
  }

  /** Records the reply of a write that ran (failed commands are not recorded: a retry may run them). */
  remember(write: RetryableWrite, reply: Doc): void {
    this.latest.delete(write.session);
    this.latest.set(write.session, { txnNumber: write.txnNumber, reply: reply.ok === 1 ? reply : undefined });
    if (this.latest.size > MAX_SESSIONS) this.latest.delete(this.latest.keys().next().value!);
  }
}

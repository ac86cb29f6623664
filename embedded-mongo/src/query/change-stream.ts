// One open change stream: where in the change history it stands, which namespace it watches, and
// the stages after $changeStream, applied with mingo to each event as it is read.
import { calculateObjectSize, Timestamp } from 'bson';
import type { Aggregator } from 'mingo/aggregator';
import * as pipelineOperators from 'mingo/operators/pipeline';
import { isPlainDocument, keyOf, type Doc } from '../bson-values.ts';
import type { TailSource } from '../cursors.ts';
import { MongoCommandError } from '../errors.ts';
import type { ChangeEntry, ChangeHistory } from '../replication/change-history.ts';
import { compareTimestamps } from '../replication/cluster-clock.ts';
import { decodeResumeToken, encodeResumeToken } from '../replication/resume-token.ts';
import { changeEvent, invalidateEvent, type BeforeChangeMode, type EventOptions, type FullDocumentMode } from './change-events.ts';
import { newAggregator } from './mingo-context.ts';
import { cloneDoc } from './update.ts';

export type ChangeStreamScope =
  | { kind: 'collection'; db: string; coll: string }
  | { kind: 'database'; db: string }
  | { kind: 'cluster' };

/** The stages mongod allows after $changeStream. */
const ALLOWED_STAGES = new Set(['$match', '$project', '$addFields', '$set', '$unset', '$replaceRoot', '$replaceWith', '$redact']);
const KNOWN_STAGES = new Set([...Object.keys(pipelineOperators), '$changeStream', '$out', '$merge', '$geoNear', '$search', '$listSessions', '$changeStreamSplitLargeEvent']);
const SPEC_FIELDS = new Set([
  'fullDocument', 'fullDocumentBeforeChange', 'resumeAfter', 'startAfter', 'startAtOperationTime', 'allChangesForCluster', 'showExpandedEvents',
  'showMigrationEvents', 'showSystemEvents', 'allowToRunOnConfigDB', 'allowToRunOnSystemNS', 'showRawUpdateDescription',
]);
const FULL_DOCUMENT_MODES: readonly FullDocumentMode[] = ['default', 'updateLookup', 'whenAvailable', 'required'];
const BEFORE_CHANGE_MODES: readonly BeforeChangeMode[] = ['off', 'whenAvailable', 'required'];
/** A reply must stay under the 16 MiB document limit, with room for the envelope. */
const BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024;

function justBefore(time: Timestamp): Timestamp {
  return time.i > 0 ? new Timestamp({ t: time.t, i: time.i - 1 }) : new Timestamp({ t: time.t - 1, i: 0xffffffff });
}

export function historyLost(): MongoCommandError {
  return new MongoCommandError('ChangeStreamHistoryLost', 'Resume of change stream was not possible, as the resume point may no longer be in the oplog.');
}

function enumArg<T extends string>(spec: Doc, field: string, values: readonly T[], fallback: T): T {
  const value = spec[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') {
    throw new MongoCommandError('TypeMismatch', `BSON field '$changeStream.${field}' is the wrong type '${typeof value}', expected type 'string'`);
  }
  if (!values.includes(value as T)) {
    throw new MongoCommandError('BadValue', `Enumeration value '${value}' for field '$changeStream.${field}' is not a valid value.`);
  }
  return value as T;
}

/** Checks the stages after $changeStream and compiles them (undefined when there are none). */
function compileStages(stages: Doc[]): Aggregator | undefined {
  for (const stage of stages) {
    const names = Object.keys(stage);
    if (names.length !== 1) throw new MongoCommandError('Location40323', 'A pipeline stage specification object must contain exactly one field.');
    const name = names[0]!;
    if (!KNOWN_STAGES.has(name)) throw new MongoCommandError('Location40324', `Unrecognized pipeline stage name: '${name}'`);
    if (name === '$changeStream') throw new MongoCommandError('Location40602', '$changeStream is only valid as the first stage in a pipeline');
    if (!ALLOWED_STAGES.has(name)) throw new MongoCommandError('IllegalOperation', `${name} is not permitted in a $changeStream pipeline`);
  }
  return stages.length === 0 ? undefined : newAggregator(stages);
}

export interface ChangeStreamInput {
  history: ChangeHistory;
  scope: ChangeStreamScope;
  spec: Doc;
  stages: Doc[];
  lookup: EventOptions['lookup'];
}

export class ChangeStreamReader implements TailSource {
  private readonly history: ChangeHistory;
  private readonly scope: ChangeStreamScope;
  private readonly aggregator: Aggregator | undefined;
  private readonly options: EventOptions;
  /** Every entry up to this sequence number has been read. */
  private position: number;
  /** startAtOperationTime: entries before it are skipped. */
  private readonly notBefore: Timestamp | undefined;
  /** An invalidating entry whose invalidate event is still to be sent. */
  private pendingInvalidate: ChangeEntry | undefined;
  private invalidatedBy: ChangeEntry | undefined;

  constructor(input: ChangeStreamInput) {
    const { history, spec } = input;
    for (const field of Object.keys(spec)) {
      if (!SPEC_FIELDS.has(field)) throw new MongoCommandError('Location40415', `BSON field '$changeStream.${field}' is an unknown field.`);
    }
    this.history = history;
    this.scope = input.scope;
    this.options = {
      fullDocument: enumArg(spec, 'fullDocument', FULL_DOCUMENT_MODES, 'default'),
      fullDocumentBeforeChange: enumArg(spec, 'fullDocumentBeforeChange', BEFORE_CHANGE_MODES, 'off'),
      lookup: input.lookup,
    };
    this.aggregator = compileStages(input.stages);

    const { resumeAfter, startAfter, startAtOperationTime } = spec;
    const hasToken = resumeAfter !== undefined || startAfter !== undefined;
    if (resumeAfter !== undefined && startAfter !== undefined) {
      throw new MongoCommandError('Location50865', `Do not specify both 'resumeAfter' and 'startAfter' in a $changeStream stage`);
    }
    if (hasToken && startAtOperationTime !== undefined) {
      throw new MongoCommandError('Location40674', 'Only one type of resume option is allowed, but multiple were found');
    }
    this.position = history.lastSeq;
    if (hasToken) {
      const option = resumeAfter !== undefined ? 'resumeAfter' : 'startAfter';
      const point = decodeResumeToken(resumeAfter ?? startAfter, option);
      if (option === 'resumeAfter' && point.fromInvalidate) {
        throw new MongoCommandError('InvalidResumeToken', `Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification`);
      }
      if (point.epoch !== history.epoch) throw historyLost();
      this.position = this.checkedResumePoint(point.seq, point.clusterTime);
      const resumedAt = history.entry(point.seq);
      // Resuming right after an invalidating event (not its invalidate) still owes the invalidate.
      if (!point.fromInvalidate && resumedAt && this.invalidates(resumedAt)) this.pendingInvalidate = resumedAt;
    } else if (startAtOperationTime !== undefined) {
      if (!(startAtOperationTime instanceof Timestamp)) {
        throw new MongoCommandError('TypeMismatch', `BSON field '$changeStream.startAtOperationTime' is the wrong type, expected type 'timestamp'`);
      }
      const evicted = history.lastEvictedTime;
      if (compareTimestamps(startAtOperationTime, history.startTime) < 0 || (evicted && compareTimestamps(startAtOperationTime, evicted) <= 0)) {
        throw historyLost();
      }
      this.notBefore = startAtOperationTime;
      this.position = history.seqBefore(startAtOperationTime);
    }
  }

  /**
   * The position a resume token stands for, if the history still holds everything after it and
   * the token fits this history (a token from before a restart or from another server does not).
   */
  private checkedResumePoint(seq: number, time: Timestamp): number {
    const { history } = this;
    if (compareTimestamps(time, history.startTime) < 0 || seq > history.lastSeq || seq < history.firstSeq - 1) throw historyLost();
    const at = history.entry(seq);
    const next = history.entry(seq + 1);
    if ((at && compareTimestamps(at.clusterTime, time) > 0) || (next && compareTimestamps(next.clusterTime, time) <= 0)) throw historyLost();
    return seq;
  }

  private token(clusterTime: Timestamp, seq: number, fromInvalidate: boolean): Doc {
    return encodeResumeToken({ clusterTime, seq, epoch: this.history.epoch, fromInvalidate });
  }

  private matches(entry: ChangeEntry): boolean {
    const { scope } = this;
    if (scope.kind === 'cluster') return true;
    if (scope.kind === 'database') return entry.db === scope.db;
    return entry.db === scope.db && entry.coll === scope.coll;
  }

  /** Whether the entry ends this stream: its collection dropped or renamed, its database dropped. */
  private invalidates(entry: ChangeEntry): boolean {
    const { scope } = this;
    if (scope.kind === 'collection') return (entry.op === 'drop' || entry.op === 'rename') && this.matches(entry);
    if (scope.kind === 'database') return entry.op === 'dropDatabase' && entry.db === scope.db;
    return false;
  }

  /** Runs the user's stages on one event; refuses results whose resume token was altered. */
  private transform(event: Doc): Doc | undefined {
    if (!this.aggregator) return event;
    let out: Doc | undefined;
    try {
      [out] = this.aggregator.run([cloneDoc(event)]) as Doc[];
    } catch (error) {
      throw new MongoCommandError('BadValue', (error as Error).message);
    }
    if (out && (!('_id' in out) || keyOf(out._id) !== keyOf(event._id))) {
      throw new MongoCommandError(
        'ChangeStreamFatalError',
        'Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed.',
      );
    }
    return out;
  }

  private invalidate(entry: ChangeEntry, docs: Doc[]): void {
    const id = this.token(entry.clusterTime, entry.seq, true);
    const event = this.transform(invalidateEvent(entry, id));
    if (event) docs.push(event);
    this.pendingInvalidate = undefined;
    this.invalidatedBy = entry;
  }

  get closed(): boolean {
    return this.invalidatedBy !== undefined;
  }

  take(limit: number): { docs: Doc[]; closed: boolean } {
    const docs: Doc[] = [];
    if (this.invalidatedBy) return { docs, closed: true };
    if (this.pendingInvalidate) {
      if (limit > 0) this.invalidate(this.pendingInvalidate, docs);
      return { docs, closed: this.closed };
    }
    const { history } = this;
    let bytes = 0;
    while (this.position < history.lastSeq && docs.length < limit && bytes < BATCH_BYTES) {
      const entry = history.entry(this.position + 1);
      // The stream fell behind further than the history reaches.
      if (!entry) throw historyLost();
      this.position = entry.seq;
      if (!this.matches(entry) || (this.notBefore && compareTimestamps(entry.clusterTime, this.notBefore) < 0)) continue;
      const id = this.token(entry.clusterTime, entry.seq, false);
      const event = this.transform(changeEvent(entry, id, this.options));
      if (event) {
        docs.push(event);
        bytes += calculateObjectSize(event);
      }
      if (this.invalidates(entry)) {
        if (docs.length < limit) this.invalidate(entry, docs);
        else this.pendingInvalidate = entry;
        break;
      }
    }
    return { docs, closed: this.closed };
  }

  changed(signal: AbortSignal): Promise<void> {
    return this.history.changed(signal);
  }

  /** The token a client resumes from to continue exactly after this batch. */
  postBatchResumeToken(): Doc {
    const { history } = this;
    if (this.invalidatedBy) return this.token(this.invalidatedBy.clusterTime, this.invalidatedBy.seq, true);
    // At the end of the history the token is "now", so a resume from it misses nothing written since;
    // before the end it is the time of the last entry read (or just before the next one).
    let clusterTime = history.clock.current;
    if (this.position < history.lastSeq) {
      clusterTime = history.entry(this.position)?.clusterTime ?? justBefore(history.entry(this.position + 1)!.clusterTime);
    }
    return this.token(clusterTime, this.position, false);
  }

  replyFields(): Doc {
    return { postBatchResumeToken: this.postBatchResumeToken() };
  }
}

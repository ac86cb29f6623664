// Change history entries shaped as the change event documents mongod 7 sends, with the field
// order it uses; updateDescription is worked out from the documents before and after.
import { isPlainDocument, keyOf, type Doc } from '../bson-values.ts';
import { MongoCommandError } from '../errors.ts';
import type { ChangeEntry } from '../replication/change-history.ts';

export type FullDocumentMode = 'default' | 'updateLookup' | 'whenAvailable' | 'required';
export type BeforeChangeMode = 'off' | 'whenAvailable' | 'required';

export interface EventOptions {
  fullDocument: FullDocumentMode;
  fullDocumentBeforeChange: BeforeChangeMode;
  /** The document stored now under `_id` in `db.coll` (for updateLookup). */
  lookup(db: string, coll: string, id: unknown): Doc | undefined;
}

export interface UpdateDescription {
  updatedFields: Doc;
  removedFields: string[];
  truncatedArrays: Array<{ field: string; newSize: number }>;
}

function same(a: unknown, b: unknown): boolean {
  return a === b || keyOf(a) === keyOf(b);
}

/**
 * What changed between two versions of a document: new or changed fields by dotted path (inside
 * embedded documents), removed fields, and arrays that only grew, shrank or changed in place
 * element by element; any other array change reports the whole array.
 */
export function describeUpdate(before: Doc, after: Doc): UpdateDescription {
  const description: UpdateDescription = { updatedFields: {}, removedFields: [], truncatedArrays: [] };
  diffDocuments(before, after, '', description);
  return description;
}

function diffDocuments(before: Doc, after: Doc, prefix: string, out: UpdateDescription): void {
  for (const [key, value] of Object.entries(after)) {
    const path = prefix + key;
    if (!Object.prototype.hasOwnProperty.call(before, key)) {
      out.updatedFields[path] = value;
      continue;
    }
    const old = before[key];
    if (old === value) continue;
    if (isPlainDocument(old) && isPlainDocument(value)) diffDocuments(old, value, `${path}.`, out);
    else if (Array.isArray(old) && Array.isArray(value)) diffArrays(old, value, path, out);
    else if (!same(old, value)) out.updatedFields[path] = value;
  }
  for (const key of Object.keys(before)) {
    if (!Object.prototype.hasOwnProperty.call(after, key)) out.removedFields.push(prefix + key);
  }
}

function diffArrays(old: unknown[], value: unknown[], path: string, out: UpdateDescription): void {
  const common = Math.min(old.length, value.length);
  const changed: number[] = [];
  for (let i = 0; i < common; i++) if (!same(old[i], value[i])) changed.push(i);
  if (changed.length > 0 && old.length !== value.length) {
    out.updatedFields[path] = value;
    return;
  }
  for (const i of changed) out.updatedFields[`${path}.${i}`] = value[i];
  for (let i = old.length; i < value.length; i++) out.updatedFields[`${path}.${i}`] = value[i];
  if (value.length < old.length) out.truncatedArrays.push({ field: path, newSize: value.length });
}

function postImage(entry: ChangeEntry, options: EventOptions): Doc | null | undefined {
  switch (options.fullDocument) {
    case 'default':
      return undefined;
    case 'updateLookup':
      return options.lookup(entry.db, entry.coll, entry.before?._id ?? entry.after?._id) ?? null;
    case 'whenAvailable':
      return entry.after ?? null;
    case 'required':
      if (!entry.after) throw new MongoCommandError('NoMatchingDocument', `Change stream was configured to require a post-image for all update, delete and replace events, but the post-image was not found for event`);
      return entry.after;
  }
}

function preImage(entry: ChangeEntry, options: EventOptions): Doc | null | undefined {
  if (options.fullDocumentBeforeChange === 'off') return undefined;
  if (!entry.before && options.fullDocumentBeforeChange === 'required') {
    throw new MongoCommandError('NoMatchingDocument', 'Change stream was configured to require a pre-image for all update, delete and replace events, but the pre-image was not found for event');
  }
  return entry.before ?? null;
}

/** The event document for one entry; `id` is its resume token. */
export function changeEvent(entry: ChangeEntry, id: Doc, options: EventOptions): Doc {
  const head: Doc = { _id: id, operationType: entry.op, clusterTime: entry.clusterTime, wallTime: entry.wallTime };
  const ns = { db: entry.db, coll: entry.coll };
  switch (entry.op) {
    case 'insert':
      return { ...head, fullDocument: entry.after, ns, documentKey: { _id: entry.after!._id } };
    case 'replace': {
      const event: Doc = { ...head, fullDocument: entry.after, ns, documentKey: { _id: entry.after!._id } };
      const before = preImage(entry, options);
      if (before !== undefined) event.fullDocumentBeforeChange = before;
      return event;
    }
    case 'update': {
      const event: Doc = { ...head, ns, documentKey: { _id: entry.after!._id }, updateDescription: describeUpdate(entry.before!, entry.after!) };
      const after = postImage(entry, options);
      if (after !== undefined) event.fullDocument = after;
      const before = preImage(entry, options);
      if (before !== undefined) event.fullDocumentBeforeChange = before;
      return event;
    }
    case 'delete': {
      const event: Doc = { ...head, ns, documentKey: { _id: entry.before!._id } };
      const before = preImage(entry, options);
      if (before !== undefined) event.fullDocumentBeforeChange = before;
      return event;
    }
    case 'drop':
      return { ...head, ns };
    case 'rename':
      return { ...head, ns, to: entry.to };
    case 'dropDatabase':
      return { ...head, ns: { db: entry.db } };
  }
}

export function invalidateEvent(entry: ChangeEntry, id: Doc): Doc {
  return { _id: id, operationType: 'invalidate', clusterTime: entry.clusterTime, wallTime: entry.wallTime };
}

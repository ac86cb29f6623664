// Update documents: operator updates (via mingo's updater, guarded by MongoDB's validation and
// error codes), replacement documents, pipeline updates, and upsert seeding from a filter.
import { Long, ObjectId, Timestamp } from 'bson';
import { formatKeyValue } from '../storage/collection-index.ts';
import { update as mingoUpdate } from 'mingo/updater';
import { isPlainDocument, keyOf, typeOrder, TypeOrder, type Doc } from '../bson-values.ts';
import { MongoCommandError } from '../errors.ts';
import { mingoOptions, newAggregator } from './mingo-context.ts';

const OPERATORS = new Set([
  '$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$currentDate', '$setOnInsert',
  '$push', '$addToSet', '$pop', '$pull', '$pullAll', '$bit',
]);

export interface UpdateInput {
  /** The query of the update, used for the positional `$` operator. */
  filter: Doc;
  arrayFilters?: Doc[];
  /** True when the update creates the document (upsert): `$setOnInsert` applies. */
  inserting: boolean;
}

/** Copies containers so updates never touch a stored document; BSON scalars are immutable and shared. */
export function cloneDoc<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneDoc) as T;
  if (isPlainDocument(value)) {
    const out: Doc = {};
    for (const [k, v] of Object.entries(value)) out[k] = cloneDoc(v);
    return out as T;
  }
  return value;
}

export function isOperatorUpdate(update: Doc): boolean {
  const first = Object.keys(update)[0];
  return first !== undefined && first.startsWith('$');
}

/** Puts `_id` first, as mongod stores it. */
export function idFirst(doc: Doc): Doc {
  if (Object.keys(doc)[0] === '_id' || !('_id' in doc)) return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

export function validateId(doc: Doc): void {
  if (Array.isArray(doc._id)) throw new MongoCommandError('InvalidIdField', `The '_id' value cannot be of type array`);
  if (doc._id instanceof RegExp) throw new MongoCommandError('InvalidIdField', `The '_id' value cannot be of type regex`);
}

/** Returns the updated copy of `doc`; the original is left untouched. */
export function applyUpdate(doc: Doc, update: Doc | Doc[], input: UpdateInput): Doc {
  let result: Doc;
  if (Array.isArray(update)) {
    result = applyPipeline(doc, update);
  } else if (isOperatorUpdate(update)) {
    result = applyOperators(doc, update, input);
  } else {
    result = applyReplacement(doc, update);
  }
  if ('_id' in doc && keyOf(result._id) !== keyOf(doc._id)) {
    throw new MongoCommandError(
      'ImmutableField',
      Array.isArray(update) || isOperatorUpdate(update)
        ? `Performing an update on the path '_id' would modify the immutable field '_id'`
        : `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${formatKeyValue(result._id)}`,
    );
  }
  if (!('_id' in result) && '_id' in doc) result = { _id: doc._id, ...result };
  return idFirst(result);
}

function applyReplacement(doc: Doc, replacement: Doc): Doc {
  for (const key of Object.keys(replacement)) {
    if (key.startsWith('$')) {
      throw new MongoCommandError('FailedToParse', `The dollar ($) prefixed field '${key}' in '${key}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`);
    }
  }
  const out: Doc = '_id' in doc ? { _id: doc._id } : {};
  for (const [k, v] of Object.entries(replacement)) out[k] = cloneDoc(v);
  return out;
}

function applyPipeline(doc: Doc, stages: Doc[]): Doc {
  const allowed = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);
  for (const stage of stages) {
    const name = Object.keys(stage)[0] ?? '';
    if (!allowed.has(name)) {
      throw new MongoCommandError('InvalidOptions', `${name} is not allowed to be used within an update`);
    }
  }
  const [out] = newAggregator(stages).run([cloneDoc(doc)]) as Doc[];
  return out ?? {};
}

function applyOperators(doc: Doc, update: Doc, input: UpdateInput): Doc {
  const seen: string[] = [];
  for (const [op, fields] of Object.entries(update)) {
    if (!OPERATORS.has(op)) {
      throw new MongoCommandError(
        'FailedToParse',
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
    if (!isPlainDocument(fields)) {
      throw new MongoCommandError(
        'FailedToParse',
        `Modifiers operate on fields but we found type ${typeName(fields)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${JSON.stringify(fields)}}`,
      );
    }
    for (const path of Object.keys(fields)) {
      const targets = op === '$rename' ? [path, String(fields[path])] : [path];
      for (const target of targets) {
        const clash = seen.find((p) => p === target || p.startsWith(`${target}.`) || target.startsWith(`${p}.`));
        if (clash !== undefined) {
          throw new MongoCommandError(
            'ConflictingUpdateOperators',
            `Updating the path '${target}' would create a conflict at '${clash.length < target.length ? clash : target}'`,
          );
        }
        seen.push(target);
      }
    }
  }
  const out = cloneDoc(doc);
  const modifier: Doc = {};
  for (const [op, unsorted] of Object.entries(update) as Array<[string, Doc]>) {
    // mongod applies paths in lexicographic order, so new fields are appended in that order.
    const fields = Object.fromEntries(Object.entries(unsorted).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    guardId(doc, op, fields);
    if (op === '$setOnInsert') {
      if (input.inserting) modifier.$set = { ...((modifier.$set as Doc) ?? {}), ...fields };
      continue;
    }
    if (op === '$currentDate') {
      modifier.$set = { ...((modifier.$set as Doc) ?? {}), ...currentDates(fields) };
      continue;
    }
    if (op === '$bit') {
      const { set, positional } = bitUpdates(out, fields, input);
      modifier.$set = { ...((modifier.$set as Doc) ?? {}), ...set };
      if (Object.keys(positional).length > 0) modifier.$bit = positional;
      continue;
    }
    if (op === '$inc' || op === '$mul') checkArithmetic(out, op, fields, input);
    if (op === '$push' || op === '$addToSet' || op === '$pull' || op === '$pullAll' || op === '$pop') checkArrays(out, op, fields);
    if (op === '$push') seedArrays(out, fields);
    if (op === '$addToSet') {
      const rest = addToSet(out, fields);
      if (Object.keys(rest).length > 0) modifier.$addToSet = rest;
      continue;
    }
    modifier[op] = op === '$set' && modifier.$set ? { ...(modifier.$set as Doc), ...fields } : fields;
  }
  if (Object.keys(modifier).length === 0) return out;
  try {
    mingoUpdate(out, modifier as never, input.arrayFilters, input.inserting ? undefined : input.filter, {
      cloneMode: 'deep',
      queryOptions: mingoOptions,
    });
  } catch (error) {
    if (error instanceof MongoCommandError) throw error;
    throw new MongoCommandError('BadValue', (error as Error).message);
  }
  return out;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return Number.isInteger(value) ? 'int' : 'double';
    case 'boolean':
      return 'bool';
    default:
      return typeOrder(value) === TypeOrder.date ? 'date' : typeOrder(value) === TypeOrder.objectId ? 'objectId' : 'object';
  }
}

/** The value at a plain dotted path (no positional parts), or undefined. */
function valueAt(doc: Doc, path: string): { found: boolean; value: unknown } {
  let current: unknown = doc;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return { found: false, value: undefined };
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(part)) return { found: false, value: undefined };
      current = current[Number(part)];
    } else if (Object.prototype.hasOwnProperty.call(current, part)) {
      current = (current as Doc)[part];
    } else {
      return { found: false, value: undefined };
    }
  }
  return { found: true, value: current };
}

function checkArithmetic(doc: Doc, op: string, fields: Doc, input: UpdateInput): void {
  const verb = op === '$inc' ? 'increment' : 'multiply';
  for (const [path, amount] of Object.entries(fields)) {
    if (typeOrder(amount) !== TypeOrder.number) {
      throw new MongoCommandError(
        'TypeMismatch',
        `Cannot ${verb} with non-numeric argument: {${path}: ${JSON.stringify(amount)}}`,
      );
    }
    const targets = path.includes('$') ? positionalTargets(doc, path, input) : [valueAt(doc, path)].filter((t) => t.found).map(
      ({ value }) => ({ field: path.split('.').pop()!, value }),
    );
    for (const { field, value } of targets) {
      if (typeOrder(value) === TypeOrder.number) continue;
      throw new MongoCommandError(
        'TypeMismatch',
        `Cannot apply ${op} to a value of non-numeric type. {_id: ${JSON.stringify(doc._id)}} has the field '${field}' of non-numeric type ${typeName(value)}`,
      );
    }
  }
}

const PROBE = `\u0000embedded-mongo positional probe ${new ObjectId().toHexString()}`;

/**
 * The existing values a positional path (`$`, `$[]`, `$[id]`) selects in `doc`, found by letting mingo
 * resolve the path on a copy (marking each target) so the check agrees with the update itself.
 */
function positionalTargets(doc: Doc, path: string, input: UpdateInput): Array<{ field: string; value: unknown }> {
  const probe = cloneDoc(doc);
  try {
    mingoUpdate(probe, { $set: { [path]: PROBE } } as never, input.arrayFilters, input.inserting ? undefined : input.filter, {
      cloneMode: 'none',
      queryOptions: mingoOptions,
    });
  } catch {
    return []; // The update itself reports what is wrong with the path.
  }
  const out: Array<{ field: string; value: unknown }> = [];
  const visit = (original: unknown, marked: unknown) => {
    if (marked === null || typeof marked !== 'object' || original === null || typeof original !== 'object') return;
    for (const [key, value] of Object.entries(marked as Doc)) {
      const has = Object.prototype.hasOwnProperty.call(original, key);
      const before = has ? (original as Doc)[key] : undefined;
      if (value === PROBE) {
        if (has) out.push({ field: key, value: before });
      } else if (has) {
        visit(before, value);
      }
    }
  };
  visit(doc, probe);
  return out;
}

const BIT_OPERATIONS = new Set(['and', 'or', 'xor']);

/** An integer as BSON holds it (int or long) with its width, or undefined for anything else. */
function integral(value: unknown): { n: bigint; wide: boolean } | undefined {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return undefined;
    return { n: BigInt(value), wide: Math.abs(value) >= 2 ** 31 };
  }
  if (typeof value === 'bigint') return { n: value, wide: true };
  const tag = (value as { _bsontype?: string } | null)?._bsontype;
  if (tag === 'Int32') return { n: BigInt(Number(value)), wide: false };
  if (tag === 'Long') return { n: (value as Long).toBigInt(), wide: true };
  return undefined;
}

/**
 * $bit computed here rather than by mingo, which takes one operation per field, works in 32 bits
 * and skips non-integers silently. Plain paths become $set values; positional ones stay with mingo.
 */
function bitUpdates(doc: Doc, fields: Doc, input: UpdateInput): { set: Doc; positional: Doc } {
  const set: Doc = {};
  const positional: Doc = {};
  for (const [path, spec] of Object.entries(fields)) {
    if (!isPlainDocument(spec)) {
      throw new MongoCommandError(
        'BadValue',
        `The $bit modifier is not compatible with a ${typeName(spec)}. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}`,
      );
    }
    const operations = Object.entries(spec);
    if (operations.length === 0) {
      throw new MongoCommandError('BadValue', 'You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}');
    }
    for (const [name, operand] of operations) {
      if (!BIT_OPERATIONS.has(name)) {
        throw new MongoCommandError(
          'BadValue',
          `The $bit modifier only supports 'and', 'or', and 'xor', not '${name}' which is an unknown operator: {${name}: ${formatKeyValue(operand)}}`,
        );
      }
      if (!integral(operand)) {
        throw new MongoCommandError(
          'BadValue',
          `The $bit modifier field must be an Integer(32/64 bit); a '${typeName(operand)}' is not supported here: {${name}: ${formatKeyValue(operand)}}`,
        );
      }
    }
    const targets = path.includes('$')
      ? positionalTargets(doc, path, input)
      : [valueAt(doc, path)].filter((t) => t.found).map(({ value }) => ({ field: path.split('.').pop()!, value }));
    for (const { field, value } of targets) {
      if (integral(value)) continue;
      throw new MongoCommandError(
        'BadValue',
        `Cannot apply $bit to a value of non-integral type.{_id: ${JSON.stringify(doc._id)}} has the field ${field} of non-integer type ${typeName(value)}`,
      );
    }
    if (path.includes('$')) {
      positional[path] = spec;
      continue;
    }
    const current = targets.length > 0 ? integral(targets[0]!.value)! : { n: 0n, wide: false };
    let { n, wide } = current;
    for (const [name, operand] of operations) {
      const o = integral(operand)!;
      wide ||= o.wide;
      n = name === 'and' ? n & o.n : name === 'or' ? n | o.n : n ^ o.n;
    }
    n = BigInt.asIntN(wide ? 64 : 32, n);
    const result = Number(n);
    set[path] = Number.isSafeInteger(result) ? result : Long.fromBigInt(n);
  }
  return { set, positional };
}

/** Updates may name `_id` only to set it to the value it already has. */
function guardId(doc: Doc, op: string, fields: Doc): void {
  for (const path of Object.keys(fields)) {
    if (path !== '_id' && !path.startsWith('_id.')) continue;
    if ((op === '$set' || op === '$setOnInsert') && path === '_id' && (!('_id' in doc) || keyOf(fields[path]) === keyOf(doc._id))) continue;
    if (!('_id' in doc)) continue;
    throw new MongoCommandError('ImmutableField', `Performing an update on the path '_id' would modify the immutable field '_id'`);
  }
}

let timestampCounter = 0;

function currentDates(fields: Doc): Doc {
  const now = new Date();
  const out: Doc = {};
  for (const [path, spec] of Object.entries(fields)) {
    if (isPlainDocument(spec) && spec.$type === 'timestamp') {
      out[path] = new Timestamp({ t: Math.floor(now.getTime() / 1000), i: ++timestampCounter });
    } else {
      out[path] = now;
    }
  }
  return out;
}

function checkArrays(doc: Doc, op: string, fields: Doc): void {
  for (const path of Object.keys(fields)) {
    if (path.includes('$')) continue;
    const { found, value } = valueAt(doc, path);
    if (!found || Array.isArray(value)) continue;
    const field = path.split('.').pop();
    const where = `{_id: ${formatKeyValue(doc._id)}}`;
    if (op === '$pop') throw new MongoCommandError('TypeMismatch', `Path '${path}' contains an element of non-array type '${typeName(value)}'`);
    if (op === '$pull' || op === '$pullAll') throw new MongoCommandError('BadValue', `Cannot apply ${op} to a non-array value`);
    throw new MongoCommandError('BadValue', `The field '${field}' must be an array but is of type ${typeName(value)} in document ${where}`);
  }
}

/** $addToSet with MongoDB equality (field order matters in subdocuments); positional paths go to mingo. */
function addToSet(doc: Doc, fields: Doc): Doc {
  const rest: Doc = {};
  for (const [path, spec] of Object.entries(fields)) {
    if (path.includes('$')) {
      rest[path] = spec;
      continue;
    }
    const values = isPlainDocument(spec) && '$each' in spec && Array.isArray(spec.$each) ? spec.$each : [spec];
    const { found, value } = valueAt(doc, path);
    const list = found ? [...(value as unknown[])] : [];
    const keys = new Set(list.map(keyOf));
    for (const v of values) {
      const k = keyOf(v);
      if (keys.has(k)) continue;
      keys.add(k);
      list.push(cloneDoc(v));
    }
    if (found && list.length === (value as unknown[]).length) continue;
    mingoUpdate(doc, { $set: { [path]: list } } as never, undefined, undefined, { cloneMode: 'none', queryOptions: mingoOptions });
  }
  return rest;
}

/** mingo drops `$push` modifiers on a missing field; start such fields as empty arrays. */
function seedArrays(doc: Doc, fields: Doc): void {
  for (const [path, value] of Object.entries(fields)) {
    if (path.includes('$') || !isPlainDocument(value) || !('$each' in value)) continue;
    if (valueAt(doc, path).found) continue;
    mingoUpdate(doc, { $set: { [path]: [] } } as never, undefined, undefined, { cloneMode: 'none', queryOptions: mingoOptions });
  }
}

/** The document an upsert starts from: the filter's equality conditions (incl. inside `$and`). */
export function upsertSeed(filter: Doc): Doc {
  const seed: Doc = {};
  const visit = (f: Doc) => {
    for (const [field, cond] of Object.entries(f)) {
      if (field === '$and' && Array.isArray(cond)) {
        for (const part of cond) if (isPlainDocument(part)) visit(part);
        continue;
      }
      if (field.startsWith('$')) continue;
      let value: unknown;
      if (isPlainDocument(cond) && Object.keys(cond).some((k) => k.startsWith('$'))) {
        if (!('$eq' in cond)) continue;
        value = cond.$eq;
      } else if (cond instanceof RegExp) {
        continue;
      } else {
        value = cond;
      }
      setPath(seed, field, cloneDoc(value));
    }
  };
  visit(filter);
  return seed;
}

function setPath(doc: Doc, path: string, value: unknown): void {
  const parts = path.split('.');
  let current = doc;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainDocument(current[part])) current[part] = {};
    current = current[part] as Doc;
  }
  current[parts[parts.length - 1]!] = value;
}

/** Builds the document an upsert inserts. */
export function buildUpsert(filter: Doc, update: Doc | Doc[], arrayFilters: Doc[] | undefined): Doc {
  const seed = upsertSeed(filter);
  let doc: Doc;
  if (!Array.isArray(update) && !isOperatorUpdate(update)) {
    doc = applyReplacement({}, update);
    if (!('_id' in doc) && '_id' in seed) doc._id = seed._id;
  } else {
    doc = applyUpdate(seed, update, { filter, arrayFilters, inserting: true });
  }
  if (!('_id' in doc)) doc._id = new ObjectId();
  doc = idFirst(doc);
  validateId(doc);
  return doc;
}

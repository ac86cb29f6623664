// mingo configured for MongoDB semantics: all operators, with $type knowing BSON classes
// (ObjectId, Binary, Timestamp, Long …) that mingo's own $type treats as plain objects.
import { Context, ProcessingMode } from 'mingo/core';
import { Query } from 'mingo/query';
import { Aggregator } from 'mingo/aggregator';
import * as accumulator from 'mingo/operators/accumulator';
import * as expression from 'mingo/operators/expression';
import * as pipeline from 'mingo/operators/pipeline';
import * as projection from 'mingo/operators/projection';
import * as query from 'mingo/operators/query';
import * as window from 'mingo/operators/window';
import type { Options } from 'mingo/types';
import { isPlainDocument, keyOf, typeOrder, TypeOrder, valuesAtPath, type Doc } from '../bson-values.ts';
import { MongoCommandError } from '../errors.ts';

const TYPE_ALIASES: Record<string, string> = {
  1: 'double', 2: 'string', 3: 'object', 4: 'array', 5: 'binData', 6: 'undefined', 7: 'objectId', 8: 'bool',
  9: 'date', 10: 'null', 11: 'regex', 13: 'javascript', 16: 'int', 17: 'timestamp', 18: 'long', 19: 'decimal',
  [-1]: 'minKey', 127: 'maxKey',
};

function bsonTag(value: unknown): string | undefined {
  return value !== null && typeof value === 'object' ? (value as { _bsontype?: string })._bsontype : undefined;
}

/** Whether a value is of a MongoDB `$type` name (numbers as JS holds them: integral → int/long). */
export function hasBsonType(value: unknown, type: string): boolean {
  const tag = bsonTag(value);
  switch (type) {
    case 'number':
      return typeOrder(value) === TypeOrder.number;
    case 'double':
      return (typeof value === 'number' && !Number.isInteger(value)) || tag === 'Double';
    case 'int':
      return (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 2 ** 31) || tag === 'Int32';
    case 'long':
      return (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) >= 2 ** 31) || tag === 'Long' || typeof value === 'bigint';
    case 'decimal':
      return tag === 'Decimal128';
    case 'string':
      return typeof value === 'string';
    case 'object':
      return isPlainDocument(value);
    case 'array':
      return Array.isArray(value);
    case 'binData':
      return typeOrder(value) === TypeOrder.binData;
    case 'undefined':
      return value === undefined;
    case 'objectId':
      return tag === 'ObjectId';
    case 'bool':
      return typeof value === 'boolean';
    case 'date':
      return value instanceof Date;
    case 'null':
      return value === null;
    case 'regex':
      return typeOrder(value) === TypeOrder.regex;
    case 'javascript':
      return tag === 'Code';
    case 'timestamp':
      return tag === 'Timestamp';
    case 'minKey':
      return tag === 'MinKey';
    case 'maxKey':
      return tag === 'MaxKey';
    default:
      return false;
  }
}

function $type(selector: string, value: unknown): (obj: Doc) => boolean {
  const types = (Array.isArray(value) ? value : [value]).map((t) => TYPE_ALIASES[String(t)] ?? String(t));
  return (obj) =>
    valuesAtPath(obj, selector, false).some((v) =>
      types.some((t) => hasBsonType(v, t) || (Array.isArray(v) && t !== 'array' && v.some((e) => hasBsonType(e, t)))),
    );
}

/**
 * Equality as MongoDB defines it: BSON values compared exactly (embedded documents are equal only
 * with the same fields in the same order; mingo ignores order), arrays matched whole or by element.
 */
function $eq(selector: string, value: unknown, options: Options): (obj: Doc) => boolean {
  if (value === null || value === undefined) return (query.$eq as (s: string, v: unknown, o: Options) => (obj: Doc) => boolean)(selector, value, options);
  const key = keyOf(value);
  return (obj) =>
    valuesAtPath(obj, selector, false).some(
      (v) => keyOf(v) === key || (Array.isArray(v) && v.some((element) => keyOf(element) === key)),
    );
}

/** $all: every value present, in an array field or as the field itself (mingo needs an array). */
function $all(selector: string, value: unknown, options: Options): (obj: Doc) => boolean {
  const wanted = Array.isArray(value) ? value : [value];
  if (wanted.some((q) => q instanceof RegExp || (isPlainDocument(q) && '$elemMatch' in q))) {
    return (query.$all as (s: string, v: unknown, o: Options) => (obj: Doc) => boolean)(selector, value, options);
  }
  const keys = wanted.map(keyOf);
  return (obj) =>
    keys.length > 0 &&
    valuesAtPath(obj, selector, false).some((v) =>
      keys.every((k) => keyOf(v) === k || (Array.isArray(v) && v.some((element) => keyOf(element) === k))),
    );
}

function $ne(selector: string, value: unknown, options: Options): (obj: Doc) => boolean {
  const eq = $eq(selector, value, options);
  return (obj) => !eq(obj);
}

const context = Context.init({
  accumulator,
  expression,
  pipeline,
  projection,
  query: { ...query, $type, $eq, $ne, $all } as typeof query,
  window,
});

const TOP_LEVEL = new Set(['$and', '$or', '$nor', '$expr', '$where', '$comment', '$jsonSchema', '$text']);
const FIELD_OPERATORS = new Set([
  '$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$type', '$mod', '$regex', '$options',
  '$elemMatch', '$all', '$size', '$not', '$bitsAllSet', '$bitsAllClear', '$bitsAnySet', '$bitsAnyClear', '$comment',
]);

/** Rejects malformed filters with mongod's codes and messages before mingo sees them. */
export function validateFilter(filter: Doc): void {
  for (const [key, value] of Object.entries(filter)) {
    if (key.startsWith('$')) {
      if (!TOP_LEVEL.has(key)) {
        throw new MongoCommandError(
          'BadValue',
          `unknown top level operator: ${key}. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.`,
        );
      }
      if (key === '$and' || key === '$or' || key === '$nor') {
        if (!Array.isArray(value) || value.length === 0) throw new MongoCommandError('BadValue', '$and/$or/$nor must be a nonempty array');
        for (const part of value) {
          if (!isPlainDocument(part)) throw new MongoCommandError('BadValue', '$or/$and/$nor entries need to be full objects');
          validateFilter(part);
        }
      }
      continue;
    }
    validateCondition(value);
  }
}

function validateCondition(value: unknown): void {
  if (!isPlainDocument(value)) return;
  const keys = Object.keys(value);
  if (keys.length === 0 || !keys[0]!.startsWith('$')) return;
  for (const op of keys) {
    if (!FIELD_OPERATORS.has(op)) throw new MongoCommandError('BadValue', `unknown operator: ${op}`);
    if (op === '$not') validateCondition(value.$not);
    if ((op === '$in' || op === '$nin' || op === '$all') && !Array.isArray(value[op])) {
      throw new MongoCommandError('BadValue', `${op} needs an array`);
    }
    if (op === '$elemMatch' && isPlainDocument(value.$elemMatch)) {
      const inner = value.$elemMatch;
      if (Object.keys(inner)[0]?.startsWith('$') && !TOP_LEVEL.has(Object.keys(inner)[0]!)) validateCondition(inner);
      else validateFilter(inner);
    }
  }
}

export const mingoOptions: Partial<Options> = { context, processingMode: ProcessingMode.CLONE_OFF };

export function compileFilter(filter: Doc): (doc: Doc) => boolean {
  if (Object.keys(filter).length === 0) return () => true;
  validateFilter(filter);
  const q = new Query(filter, mingoOptions);
  return (doc) => q.test(doc);
}

export function newQuery(filter: Doc): Query {
  return new Query(filter, mingoOptions);
}

export function newAggregator(stages: Doc[], options: Partial<Options> = {}): Aggregator {
  return new Aggregator(stages, { ...mingoOptions, ...options });
}

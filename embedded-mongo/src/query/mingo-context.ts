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

/** PCRE's whitespace, which the `x` option ignores. */
const PATTERN_SPACE = new Set([' ', '\t', '\n', '\v', '\f', '\r']);

/**
 * A pattern with mongod's `x` (extended) option applied: unescaped whitespace and `#` comments up
 * to the end of the line are dropped, except inside a character class.
 */
export function stripExtendedPattern(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      out += pattern.slice(i, i + 2);
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
      // In PCRE a ']' right after '[' or '[^' is a literal member, not the end of the class.
      if (pattern[i + 1] === '^') out += pattern[++i];
      if (pattern[i + 1] === ']') out += '\\' + pattern[++i];
    } else if (c === '#') {
      while (i + 1 < pattern.length && pattern[i + 1] !== '\n') i++;
    } else if (!PATTERN_SPACE.has(c)) {
      out += c;
    }
  }
  return out;
}

/** A native RegExp for a pattern with mongod's options: i, m, s and x (u is always on in mongod). */
export function regExpWithOptions(pattern: string, options: string): RegExp {
  let flags = '';
  let extended = false;
  for (const c of options) {
    if (c === 'x') extended = true;
    else if (c === 'i' || c === 'm' || c === 's') flags += flags.includes(c) ? '' : c;
    else if (c !== 'u') throw new MongoCommandError('Location51108', `invalid flag in regex options: ${c}`);
  }
  return new RegExp(extended ? stripExtendedPattern(pattern) : pattern, flags);
}

/** BSON's `s` (dotall) option arrives from the bson library as JavaScript's `g`; give it its meaning back. */
function fromWireRegExp(re: RegExp): RegExp {
  return re.global ? new RegExp(re.source, re.flags.replace('g', '') + (re.dotAll ? '' : 's')) : re;
}

/** A `$regex` condition with its `$options` folded into one RegExp, which mingo can run. */
function regexCondition(cond: Doc): Doc {
  const { $regex: pattern, $options: options, ...rest } = cond;
  if (options !== undefined && typeof options !== 'string') throw new MongoCommandError('BadValue', '$options has to be a string');
  let re: unknown = pattern;
  if (typeof pattern === 'string') re = regExpWithOptions(pattern, options ?? '');
  else if (pattern instanceof RegExp) {
    const wire = fromWireRegExp(pattern);
    re = options ? regExpWithOptions(wire.source, wire.flags + options) : wire;
  }
  return { ...rest, $regex: re };
}

const OPAQUE_OPERATORS = new Set(['$expr', '$where', '$jsonSchema', '$comment', '$text']);

/** Rewrites regular expressions in a filter into what mingo runs as mongod would; copies only what changes. */
export function prepareRegexes<T>(value: T): T {
  if (value instanceof RegExp) return fromWireRegExp(value) as T;
  if (Array.isArray(value)) {
    const mapped = value.map(prepareRegexes);
    return (mapped.some((v, i) => v !== value[i]) ? mapped : value) as T;
  }
  if (!isPlainDocument(value)) return value;
  const source = '$regex' in value ? regexCondition(value) : value;
  let out: Doc | undefined = source === value ? undefined : source;
  for (const [key, v] of Object.entries(source)) {
    if (OPAQUE_OPERATORS.has(key) || key === '$regex') continue;
    const mapped = prepareRegexes(v);
    if (mapped !== v) (out ??= { ...source })[key] = mapped;
  }
  return (out ?? value) as T;
}

/** The same rewrite for every `$match` of a pipeline, nested pipelines included. */
function prepareStages(stages: Doc[]): Doc[] {
  return stages.map((stage) => {
    if (!isPlainDocument(stage)) return stage;
    if (isPlainDocument(stage.$match)) return { $match: prepareRegexes(stage.$match) };
    for (const key of ['$lookup', '$unionWith'] as const) {
      const spec = stage[key];
      if (isPlainDocument(spec) && Array.isArray(spec.pipeline)) return { [key]: { ...spec, pipeline: prepareStages(spec.pipeline) } };
    }
    if (isPlainDocument(stage.$facet)) {
      const facets = Object.entries(stage.$facet).map(([name, p]) => [name, Array.isArray(p) ? prepareStages(p) : p]);
      return { $facet: Object.fromEntries(facets) };
    }
    return stage;
  });
}

export const mingoOptions: Partial<Options> = { context, processingMode: ProcessingMode.CLONE_OFF };

export function compileFilter(filter: Doc): (doc: Doc) => boolean {
  if (Object.keys(filter).length === 0) return () => true;
  validateFilter(filter);
  const q = new Query(prepareRegexes(filter), mingoOptions);
  return (doc) => q.test(doc);
}

export function newQuery(filter: Doc): Query {
  return new Query(prepareRegexes(filter), mingoOptions);
}

export function newAggregator(stages: Doc[], options: Partial<Options> = {}): Aggregator {
  return new Aggregator(prepareStages(stages), { ...mingoOptions, ...options });
}

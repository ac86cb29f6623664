// Handshake, diagnostics and server-level commands, answered as mongod 7.0 would (hello as a
// standalone, or as the replica-set member replication.ts describes).
import { UUID } from 'bson';
import os from 'node:os';
import type { Doc } from '../bson-values.ts';
import { isPlainDocument } from '../bson-values.ts';
import { MongoCommandError } from '../errors.ts';
import { compileFilterChecked, countDocumentsMatching, readDocuments } from '../query/find.ts';
import { collectionName, documentArg, MONGOD_VERSION, namespaceOf, numberArg, type CommandContext, type CommandDefinition } from './context.ts';

export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
export const MAX_WIRE_VERSION = 21;

function hello(command: Doc, ctx: CommandContext): Doc {
  const legacy = 'isMaster' in command || 'ismaster' in command;
  const writable = legacy ? 'ismaster' : 'isWritablePrimary';
  return {
    helloOk: true,
    ...(ctx.server.replication ? ctx.server.replication.set.helloFields(writable) : { [writable]: true }),
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  };
}

function buildInfo(): Doc {
  const [major, minor, patch] = MONGOD_VERSION.split('.').map(Number);
  return {
    version: MONGOD_VERSION,
    gitVersion: 'embedded-mongo',
    modules: [],
    allocator: 'system',
    javascriptEngine: 'none',
    sysInfo: 'deprecated',
    versionArray: [major, minor, patch, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    storageEngines: ['embedded'],
    ok: 1,
  };
}

function hostInfo(): Doc {
  return {
    system: {
      currentTime: new Date(),
      hostname: os.hostname(),
      cpuAddrSize: 64,
      memSizeMB: Math.round(os.totalmem() / 1024 / 1024),
      numCores: os.cpus().length,
      cpuArch: os.arch(),
    },
    os: { type: os.type(), name: os.platform(), version: os.release() },
    extra: {},
    ok: 1,
  };
}

function parameters(ctx: CommandContext): Doc {
  return {
    featureCompatibilityVersion: { version: MONGOD_VERSION.split('.').slice(0, 2).join('.') },
    ttlMonitorSleepSecs: ctx.server.parameters.ttlMonitorSleepSecs,
    cursorTimeoutMillis: ctx.server.parameters.cursorTimeoutMillis,
    authenticationMechanisms: [],
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
  };
}

function getParameter(command: Doc, ctx: CommandContext): Doc {
  const all = parameters(ctx);
  if (command.getParameter === '*' || (isPlainDocument(command.getParameter) && command.getParameter.allParameters === true)) {
    return { ...all, ok: 1 };
  }
  const reply: Doc = {};
  for (const key of Object.keys(command)) if (key in all) reply[key] = all[key];
  if (Object.keys(reply).length === 0) throw new MongoCommandError('InvalidOptions', 'no option found to get');
  return { ...reply, ok: 1 };
}

/** The parameters setParameter may change, with the least value each accepts. */
const SETTABLE_PARAMETERS = { ttlMonitorSleepSecs: 1, cursorTimeoutMillis: 0 } as const;

function setParameter(command: Doc, ctx: CommandContext): Doc {
  const names = (Object.keys(SETTABLE_PARAMETERS) as Array<keyof typeof SETTABLE_PARAMETERS>).filter((name) => name in command);
  if (names.length === 0) throw new MongoCommandError('InvalidOptions', 'no option found to set, use help:true to see options');
  const values = names.map((name) => {
    const value = numberArg(command, name)!;
    if (!(value >= SETTABLE_PARAMETERS[name])) throw new MongoCommandError('BadValue', `${name} must be at least ${SETTABLE_PARAMETERS[name]}`);
    return value;
  });
  const was = ctx.server.parameters[names[0]!];
  names.forEach((name, i) => (ctx.server.parameters[name] = values[i]!));
  return { was, ok: 1 };
}

function databaseStats(ctx: CommandContext, db: string): { collections: number; objects: number; dataSize: number; indexes: number } {
  let objects = 0;
  let dataSize = 0;
  let indexes = 0;
  const collections = ctx.server.storage.collections(db);
  for (const c of collections) {
    objects += c.docs.size;
    dataSize += c.approximateSize();
    indexes += c.indexes.size;
  }
  return { collections: collections.length, objects, dataSize, indexes };
}

function listDatabases(command: Doc, ctx: CommandContext): Doc {
  const matches = compileFilterChecked(documentArg(command, 'filter'));
  const databases = ctx.server.storage
    .databaseNames()
    .map((name) => {
      const size = databaseStats(ctx, name).dataSize;
      return { name, sizeOnDisk: size, empty: size === 0 };
    })
    .filter(matches)
    .map((d) => (command.nameOnly === true ? { name: d.name } : d));
  const totalSize = databases.reduce((sum, d) => sum + ((d as { sizeOnDisk?: number }).sizeOnDisk ?? 0), 0);
  return command.nameOnly === true
    ? { databases, ok: 1 }
    : { databases, totalSize, totalSizeMb: Math.round(totalSize / 1024 / 1024), ok: 1 };
}

function dbStats(_command: Doc, ctx: CommandContext): Doc {
  const s = databaseStats(ctx, ctx.db);
  return {
    db: ctx.db,
    collections: s.collections,
    views: 0,
    objects: s.objects,
    avgObjSize: s.objects === 0 ? 0 : s.dataSize / s.objects,
    dataSize: s.dataSize,
    storageSize: s.dataSize,
    indexes: s.indexes,
    indexSize: 0,
    totalSize: s.dataSize,
    scaleFactor: 1,
    ok: 1,
  };
}

function collStats(command: Doc, ctx: CommandContext): Doc {
  const name = collectionName(command, 'collStats');
  const collection = ctx.server.storage.collection(ctx.db, name);
  if (!collection) throw new MongoCommandError('NamespaceNotFound', `Collection [${namespaceOf(ctx, name)}] not found.`);
  const size = collection.approximateSize();
  const indexSizes: Doc = {};
  for (const index of collection.indexes.values()) indexSizes[index.name] = index.size * 32;
  return {
    ns: collection.ns,
    capped: false,
    size,
    count: collection.docs.size,
    avgObjSize: collection.docs.size === 0 ? 0 : Math.round(size / collection.docs.size),
    storageSize: size,
    nindexes: collection.indexes.size,
    indexSizes,
    totalIndexSize: Object.values(indexSizes).reduce((a, b) => (a as number) + (b as number), 0),
    ok: 1,
  };
}

function serverStatus(_command: Doc, ctx: CommandContext): Doc {
  const uptimeMillis = Date.now() - ctx.server.startedAt;
  const journal = ctx.server.storage.journalStats;
  return {
    host: os.hostname(),
    version: MONGOD_VERSION,
    process: 'mongod',
    pid: process.pid,
    uptime: Math.floor(uptimeMillis / 1000),
    uptimeMillis,
    localTime: new Date(),
    connections: { current: ctx.server.connections.current, available: 1_000_000, totalCreated: ctx.server.connections.totalCreated },
    storageEngine: { name: 'embedded', persistent: ctx.server.storage.durable },
    mem: { bits: 64, resident: Math.round(process.memoryUsage().rss / 2 ** 20) },
    opcounters: { ...ctx.server.operations.opcounters },
    metrics: { cursor: { timedOut: ctx.server.cursors.timedOut, open: { total: ctx.server.cursors.size } } },
    // Engine-specific section, as mongod has `wiredTiger`: fsyncs and records of the journal.
    ...(journal ? { embedded: { journal } } : {}),
    ok: 1,
  };
}

/** explain for find, count and distinct-less reads: which plan ran and how much it examined. */
function explain(command: Doc, ctx: CommandContext): Doc {
  const inner = documentArg(command, 'explain');
  const verb = Object.keys(inner)[0];
  if (verb !== 'find' && verb !== 'count') {
    throw new MongoCommandError('IllegalOperation', `Explain for ${verb ?? 'nothing'} is not supported by embedded-mongo`);
  }
  const name = collectionName(inner, verb);
  const filter = documentArg(inner, verb === 'find' ? 'filter' : 'query');
  const collection = ctx.server.storage.collection(inner.$db === undefined ? ctx.db : String(inner.$db), name);
  if (verb === 'count') return explainCount(ctx, name, filter, countDocumentsMatching(collection, { filter, skip: numberArg(inner, 'skip'), limit: numberArg(inner, 'limit'), hint: inner.hint }));
  const result = readDocuments(ctx.server.storage.collection(inner.$db === undefined ? ctx.db : String(inner.$db), name), {
    filter,
    sort: documentArg(inner, 'sort'),
    skip: numberArg(inner, 'skip'),
    limit: numberArg(inner, 'limit'),
    hint: inner.hint,
  });
  const { plan } = result;
  const scan: Doc =
    plan.stage === 'IXSCAN'
      ? { stage: 'FETCH', inputStage: { stage: 'IXSCAN', indexName: plan.indexName, keyPattern: plan.keyPattern } }
      : { stage: plan.stage };
  const winningPlan = plan.sorted || plan.stage === 'IDHACK' ? scan : { stage: 'SORT', inputStage: scan };
  return {
    queryPlanner: { namespace: namespaceOf(ctx, name), parsedQuery: filter, winningPlan, rejectedPlans: [] },
    executionStats: {
      executionSuccess: true,
      nReturned: result.docs.length,
      totalKeysExamined: plan.stage === 'COLLSCAN' ? 0 : result.docsExamined,
      totalDocsExamined: result.docsExamined,
    },
    serverInfo: { version: MONGOD_VERSION },
    ok: 1,
  };
}

/** A count's plan as mongod shows it: COUNT over COUNT_SCAN when the index answers alone. */
function explainCount(ctx: CommandContext, name: string, filter: Doc, result: ReturnType<typeof countDocumentsMatching>): Doc {
  const { plan } = result;
  const scan: Doc =
    plan.stage !== 'IXSCAN'
      ? { stage: plan.stage }
      : plan.countKeys
        ? { stage: 'COUNT_SCAN', indexName: plan.indexName, keyPattern: plan.keyPattern }
        : { stage: 'FETCH', inputStage: { stage: 'IXSCAN', indexName: plan.indexName, keyPattern: plan.keyPattern } };
  return {
    queryPlanner: { namespace: namespaceOf(ctx, name), parsedQuery: filter, winningPlan: { stage: 'COUNT', inputStage: scan }, rejectedPlans: [] },
    executionStats: {
      executionSuccess: true,
      nReturned: 0,
      totalKeysExamined: plan.stage === 'COLLSCAN' ? 0 : plan.countKeys ? result.n : result.docsExamined,
      totalDocsExamined: result.docsExamined,
    },
    serverInfo: { version: MONGOD_VERSION },
    ok: 1,
  };
}

const ok = (): Doc => ({ ok: 1 });

export const adminCommands: Record<string, CommandDefinition> = {
  hello: { handler: hello },
  isMaster: { handler: hello },
  ismaster: { handler: hello },
  ping: { handler: ok },
  buildInfo: { handler: buildInfo },
  buildinfo: { handler: buildInfo },
  hostInfo: { handler: hostInfo },
  getParameter: { handler: getParameter },
  setParameter: { handler: setParameter },
  listDatabases: { handler: listDatabases },
  dbStats: { handler: dbStats },
  dbstats: { handler: dbStats },
  collStats: { handler: collStats },
  collstats: { handler: collStats },
  serverStatus: { handler: serverStatus },
  top: { handler: (_c, ctx) => ctx.server.operations.top() },
  explain: { handler: explain },
  endSessions: { handler: ok },
  killSessions: { handler: ok },
  killAllSessions: { handler: ok },
  refreshSessions: { handler: ok },
  startSession: { handler: () => ({ id: { id: new UUID() }, timeoutMinutes: 30, ok: 1 }) },
  whatsmyuri: { handler: (_c, ctx) => ({ you: ctx.remote, ok: 1 }) },
  connectionStatus: { handler: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }) },
  getCmdLineOpts: {
    handler: (_c, ctx) => {
      const parsed: Doc = { net: { port: ctx.server.port, bindIp: ctx.server.host } };
      if (ctx.server.replication) parsed.replication = { replSet: ctx.server.replication.set.name };
      return { argv: ctx.server.argv, parsed, ok: 1 };
    },
  },
  getLog: { handler: () => ({ totalLinesWritten: 0, log: [], ok: 1 }) },
  currentOp: { handler: () => ({ inprog: [], ok: 1 }) },
  shutdown: {
    handler: (_c, ctx) => {
      ctx.server.requestShutdown();
      return { ok: 1 };
    },
  },
};

// Replica-set mode with one member: uninitiated until replSetInitiate, then primary at once (no
// election to wait for). The config is kept where mongod keeps it, local.system.replset, so a
// durable server restarted with the same --replSet is primary again straight away.
import { Long, ObjectId, type Timestamp } from 'bson';
import os from 'node:os';
import { isPlainDocument, toNumber, type Doc } from '../bson-values.ts';
import { MongoCommandError } from '../errors.ts';
import type { Storage } from '../storage/catalog.ts';
import type { ClusterClock } from './cluster-clock.ts';

const CONFIG_DB = 'local';
const CONFIG_COLLECTION = 'system.replset';
/** The one term there is: this member won the only election it ever holds. */
const TERM = 1;
const ELECTION_ID = new ObjectId('7fffffff0000000000000001');
const SINGLE_MEMBER_ONLY = 'embedded-mongo runs single-member replica sets only';

export interface ReplicaSetConfig {
  _id: string;
  version: number;
  term: number;
  members: Doc[];
  protocolVersion: Long;
  writeConcernMajorityJournalDefault: boolean;
  settings: Doc;
}

function defaultSettings(): Doc {
  return {
    chainingAllowed: true,
    heartbeatIntervalMillis: 2000,
    heartbeatTimeoutSecs: 10,
    electionTimeoutMillis: 10000,
    catchUpTimeoutMillis: -1,
    catchUpTakeoverDelayMillis: 30000,
    getLastErrorModes: {},
    getLastErrorDefaults: { w: 1, wtimeout: 0 },
    replicaSetId: new ObjectId(),
  };
}

const invalidConfig = (message: string) => new MongoCommandError('InvalidReplicaSetConfig', message);

/** "host:port" split, IPv6 in brackets; the port defaults to 27017 as in mongod. */
function splitHost(hostPort: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
  if (bracketed) return { host: bracketed[1]!.toLowerCase(), port: Number(bracketed[2] ?? 27017) };
  const colon = hostPort.lastIndexOf(':');
  if (colon < 0) return { host: hostPort.toLowerCase(), port: 27017 };
  return { host: hostPort.slice(0, colon).toLowerCase(), port: Number(hostPort.slice(colon + 1)) };
}

export class ReplicaSet {
  private current: ReplicaSetConfig | undefined;
  private electedAt: { time: Timestamp; date: Date } | undefined;

  constructor(
    /** The --replSet name. */
    readonly name: string,
    private readonly storage: Storage,
    private readonly clock: ClusterClock,
    private readonly address: { host: string; port: () => number },
    /** Told each time this member becomes primary. */
    private readonly onPrimary: () => void = () => undefined,
  ) {}

  get config(): ReplicaSetConfig | undefined {
    return this.current;
  }

  /** Initiated means primary: a one-member set has nobody else to defer to. */
  get primary(): boolean {
    return this.current !== undefined;
  }

  /** This member's name in the config (what hello reports as `me`). */
  get me(): string {
    return this.current ? String(this.current.members[0]!.host) : this.defaultHost();
  }

  get electionTime(): Timestamp | undefined {
    return this.electedAt?.time;
  }

  /** HOST:PORT as mongod would write it into a config it builds itself. */
  defaultHost(): string {
    const { host } = this.address;
    const name = host === '0.0.0.0' || host === '::' ? os.hostname() : host;
    return `${name.includes(':') ? `[${name}]` : name}:${this.address.port()}`;
  }

  private isSelf(hostPort: string): boolean {
    const { host, port } = splitHost(hostPort);
    if (port !== this.address.port()) return false;
    const names = new Set(['localhost', '127.0.0.1', '::1', os.hostname().toLowerCase(), this.address.host.toLowerCase()]);
    if (this.address.host === '0.0.0.0' || this.address.host === '::') {
      for (const addresses of Object.values(os.networkInterfaces())) for (const a of addresses ?? []) names.add(a.address.toLowerCase());
    }
    return names.has(host);
  }

  /** Picks up the config a previous run stored; returns whether this member is now primary. */
  restore(): boolean {
    const stored = this.storage.collection(CONFIG_DB, CONFIG_COLLECTION)?.findById(this.name);
    if (!stored) return false;
    const config = stored as unknown as ReplicaSetConfig;
    const member = Array.isArray(config.members) ? config.members[0] : undefined;
    if (!member) return false;
    // A one-member set follows its server: started on another port, the member's host moves with it.
    if (!this.isSelf(String(member.host))) {
      this.save({ ...config, members: [{ ...member, host: this.defaultHost() }] });
    } else {
      this.current = config;
    }
    this.becomePrimary();
    return true;
  }

  initiate(raw: unknown): void {
    if (this.current) throw new MongoCommandError('AlreadyInitialized', 'already initialized');
    const given = isPlainDocument(raw) && Object.keys(raw).length > 0 ? raw : { _id: this.name, members: [{ _id: 0, host: this.defaultHost() }] };
    if (given._id !== this.name) {
      throw invalidConfig(`Attempting to initiate a replica set with name ${String(given._id)}, but command line reports ${this.name}; rejecting`);
    }
    const config = this.parse(given, numberField(given, 'version') ?? 1);
    this.save(config);
    this.becomePrimary();
  }

  reconfig(raw: unknown, force: boolean): void {
    const current = this.current;
    if (!current) throw new MongoCommandError('NotYetInitialized', 'no replset config has been received');
    if (!isPlainDocument(raw)) throw new MongoCommandError('TypeMismatch', `BSON field 'replSetReconfig' is the wrong type, expected type 'object'`);
    if (raw._id !== this.name) {
      throw invalidConfig(`Attempting to reconfigure a replica set with name ${String(raw._id)}, but command line reports ${this.name}; rejecting`);
    }
    const requested = numberField(raw, 'version');
    let version: number;
    if (force) {
      version = Math.max(requested ?? 0, current.version) + 1;
    } else {
      version = requested ?? current.version + 1;
      if (version <= current.version) {
        throw new MongoCommandError(
          'NewReplicaSetConfigurationIncompatible',
          `New replica set configuration version must be greater than old, but ${version} is not greater than ${current.version} for replica set ${this.name}`,
        );
      }
    }
    this.save(this.parse(raw, version, current.settings.replicaSetId));
  }

  /** Checks a config document as mongod does, within what a one-member set can be. */
  private parse(raw: Doc, version: number, replicaSetId?: unknown): ReplicaSetConfig {
    const members = raw.members;
    if (!Array.isArray(members) || !members.every(isPlainDocument)) throw invalidConfig(`replica set configuration must have a 'members' array`);
    if (members.length !== 1) throw invalidConfig(`${SINGLE_MEMBER_ONLY}; the configuration lists ${members.length} members`);
    const member = members[0]!;
    const host = member.host;
    if (typeof host !== 'string' || host.length === 0) throw invalidConfig(`replica set member must have a 'host' string`);
    if (!this.isSelf(host)) {
      throw invalidConfig(`${SINGLE_MEMBER_ONLY}, whose one member is this server (${this.defaultHost()}); the configuration names ${host}`);
    }
    const id = member._id === undefined ? 0 : toNumber(member._id);
    if (!Number.isInteger(id) || id < 0) throw invalidConfig(`replica set member _id must be a non-negative integer`);
    const priority = member.priority === undefined ? 1 : toNumber(member.priority);
    if (member.arbiterOnly === true || member.hidden === true || priority <= 0 || (member.votes !== undefined && toNumber(member.votes) !== 1)) {
      throw invalidConfig(`${SINGLE_MEMBER_ONLY}, and their member must be able to become primary (no arbiterOnly, hidden, priority 0 or votes 0)`);
    }
    if (raw.protocolVersion !== undefined && toNumber(raw.protocolVersion) !== 1) throw invalidConfig('only replication protocol version 1 is supported');
    if (raw.settings !== undefined && !isPlainDocument(raw.settings)) throw invalidConfig(`'settings' must be an object`);
    const settings = { ...defaultSettings(), ...((raw.settings as Doc | undefined) ?? {}) };
    if (replicaSetId !== undefined) settings.replicaSetId = replicaSetId;
    return {
      _id: this.name,
      version,
      term: TERM,
      members: [
        {
          _id: id,
          host,
          arbiterOnly: false,
          buildIndexes: true,
          hidden: false,
          priority,
          tags: isPlainDocument(member.tags) ? member.tags : {},
          secondaryDelaySecs: Long.fromNumber(member.secondaryDelaySecs === undefined ? 0 : toNumber(member.secondaryDelaySecs)),
          votes: 1,
        },
      ],
      protocolVersion: Long.fromNumber(1),
      writeConcernMajorityJournalDefault: raw.writeConcernMajorityJournalDefault !== false,
      settings,
    };
  }

  private save(config: ReplicaSetConfig): void {
    const collection = this.storage.getOrCreate(CONFIG_DB, CONFIG_COLLECTION);
    const doc = config as unknown as Doc;
    const old = collection.findById(config._id);
    if (old) this.storage.replace(collection, old, doc);
    else this.storage.insert(collection, doc);
    this.current = config;
  }

  private becomePrimary(): void {
    // mongod marks the start of its term with a no-op oplog entry; here it takes a cluster time.
    this.electedAt = { time: this.clock.tick(), date: new Date() };
    this.onPrimary();
  }

  /** The replica-set part of hello / isMaster. */
  helloFields(writableField: string): Doc {
    const config = this.current;
    if (!config) return { [writableField]: false, secondary: false, info: 'Does not have a valid replica set config', isreplicaset: true };
    const opTime = { ts: this.clock.current, t: Long.fromNumber(TERM) };
    const date = this.clock.currentWallTime;
    return {
      hosts: [this.me],
      setName: this.name,
      setVersion: config.version,
      [writableField]: true,
      secondary: false,
      primary: this.me,
      me: this.me,
      electionId: ELECTION_ID,
      lastWrite: { opTime, lastWriteDate: date, majorityOpTime: opTime, majorityWriteDate: date },
    };
  }

  status(startedAt: number): Doc {
    const config = this.current;
    if (!config) throw new MongoCommandError('NotYetInitialized', 'no replset config has been received');
    const optime = { ts: this.clock.current, t: Long.fromNumber(TERM) };
    const optimeDate = new Date(this.clock.current.t * 1000);
    const wall = this.clock.currentWallTime;
    const member = config.members[0]!;
    return {
      set: this.name,
      date: new Date(),
      myState: 1,
      term: Long.fromNumber(TERM),
      syncSourceHost: '',
      syncSourceId: -1,
      heartbeatIntervalMillis: Long.fromNumber(Number(config.settings.heartbeatIntervalMillis ?? 2000)),
      majorityVoteCount: 1,
      writeMajorityCount: 1,
      votingMembersCount: 1,
      writableVotingMembersCount: 1,
      optimes: {
        lastCommittedOpTime: optime,
        lastCommittedWallTime: wall,
        readConcernMajorityOpTime: optime,
        appliedOpTime: optime,
        durableOpTime: optime,
        lastAppliedWallTime: wall,
        lastDurableWallTime: wall,
      },
      members: [
        {
          _id: member._id,
          name: this.me,
          health: 1,
          state: 1,
          stateStr: 'PRIMARY',
          uptime: Math.floor((Date.now() - startedAt) / 1000),
          optime,
          optimeDate,
          lastAppliedWallTime: wall,
          lastDurableWallTime: wall,
          syncSourceHost: '',
          syncSourceId: -1,
          infoMessage: '',
          electionTime: this.electedAt?.time,
          electionDate: this.electedAt?.date,
          configVersion: config.version,
          configTerm: TERM,
          self: true,
          lastHeartbeatMessage: '',
        },
      ],
      ok: 1,
    };
  }
}

function numberField(doc: Doc, field: string): number | undefined {
  const value = doc[field];
  if (value === undefined || value === null) return undefined;
  const n = toNumber(value);
  if (!Number.isInteger(n) || n < 1) throw invalidConfig(`'${field}' must be a positive integer`);
  return n;
}

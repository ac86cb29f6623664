// Replica-set commands (replSetInitiate, replSetGetConfig, replSetGetStatus, replSetReconfig) and
// the transaction commands, answered as a one-member replica set or a standalone mongod 7.0 would.
import type { Doc } from '../bson-values.ts';
import { MongoCommandError } from '../errors.ts';
import type { CommandContext, CommandDefinition, ReplicationState } from './context.ts';

export const TRANSACTIONS_UNSUPPORTED = 'Multi-document transactions are not supported by embedded-mongo';
export const STANDALONE_TRANSACTION_NUMBERS = 'Transaction numbers are only allowed on a replica set member or mongos';

function replication(ctx: CommandContext): ReplicationState {
  const state = ctx.server.replication;
  if (!state) throw new MongoCommandError('NoReplicationEnabled', 'not running with --replSet');
  return state;
}

function adminOnly(ctx: CommandContext, name: string): void {
  if (ctx.db !== 'admin') throw new MongoCommandError('Unauthorized', `${name} may only be run against the admin database.`);
}

async function replSetInitiate(command: Doc, ctx: CommandContext): Promise<Doc> {
  adminOnly(ctx, 'replSetInitiate');
  const state = ctx.server.replication;
  if (!state) throw new MongoCommandError('NoReplicationEnabled', 'This node was not started with replication enabled.');
  state.set.initiate(command.replSetInitiate);
  await ctx.server.storage.sync();
  return { ok: 1 };
}

function replSetGetConfig(_command: Doc, ctx: CommandContext): Doc {
  adminOnly(ctx, 'replSetGetConfig');
  const config = replication(ctx).set.config;
  if (!config) throw new MongoCommandError('NotYetInitialized', 'no replset config has been received');
  return { config, ok: 1 };
}

function replSetGetStatus(_command: Doc, ctx: CommandContext): Doc {
  adminOnly(ctx, 'replSetGetStatus');
  return replication(ctx).set.status(ctx.server.startedAt);
}

async function replSetReconfig(command: Doc, ctx: CommandContext): Promise<Doc> {
  adminOnly(ctx, 'replSetReconfig');
  replication(ctx).set.reconfig(command.replSetReconfig, command.force === true);
  await ctx.server.storage.sync();
  return { ok: 1 };
}

function transactionCommand(_command: Doc, ctx: CommandContext): Doc {
  if (ctx.server.replication) throw new MongoCommandError('NotImplemented', TRANSACTIONS_UNSUPPORTED);
  throw new MongoCommandError('IllegalOperation', STANDALONE_TRANSACTION_NUMBERS);
}

export const replicationCommands: Record<string, CommandDefinition> = {
  replSetInitiate: { handler: replSetInitiate },
  replSetGetConfig: { handler: replSetGetConfig },
  replSetGetStatus: { handler: replSetGetStatus },
  replSetReconfig: { handler: replSetReconfig },
  commitTransaction: { handler: transactionCommand },
  abortTransaction: { handler: transactionCommand },
};

// Every command the server answers, by name.
import { adminCommands } from './admin.ts';
import { aggregateCommands } from './aggregate.ts';
import type { CommandDefinition } from './context.ts';
import { crudCommands } from './crud.ts';
import { ddlCommands } from './ddl.ts';
import { replicationCommands } from './replication.ts';

export const commands: ReadonlyMap<string, CommandDefinition> = new Map(
  Object.entries({ ...adminCommands, ...crudCommands, ...aggregateCommands, ...ddlCommands, ...replicationCommands }),
);

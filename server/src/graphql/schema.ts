// Assembles the GraphQL API: type definitions from schema/*.graphql, resolvers per area.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { healthResolvers } from './resolvers/health.ts';

const schemaDirectory = fileURLToPath(new URL('./schema/', import.meta.url));

export const typeDefs: string[] = readdirSync(schemaDirectory)
  .filter((file) => file.endsWith('.graphql'))
  .sort()
  .map((file) => readFileSync(new URL(`./schema/${file}`, import.meta.url), 'utf8'));

export const resolvers = [healthResolvers];

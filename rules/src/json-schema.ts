// The JSON Schema of rule-set documents, made from the same zod definitions the parser uses, so
// editors can autocomplete and check documents as they are written.
import { z } from 'zod';
import { ruleSetDocumentSchema } from './document.ts';

export const RULE_SET_SCHEMA_PATH = new URL('../schema/rule-set.schema.json', import.meta.url);

export function ruleSetJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ruleSetDocumentSchema, { io: 'input', unrepresentable: 'any', cycles: 'ref', reused: 'ref' });
  return { ...schema, $id: 'https://charla.dev/schema/rule-set.schema.json', title: 'Charla rule set' };
}

/** The file's text: stable formatting, so a regenerated schema only differs when definitions do. */
export function ruleSetJsonSchemaText(): string {
  return `${JSON.stringify(ruleSetJsonSchema(), null, 2)}\n`;
}

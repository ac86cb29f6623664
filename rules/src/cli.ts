// `npm run rules -- validate|import|export|schema …`: rule-set documents from the command line.
// validate and schema work offline; import and export talk to a running server's GraphQL API
// (CHARLA_URL, default http://127.0.0.1:3000, and an administrator's CHARLA_TOKEN).
import { readFile, writeFile } from 'node:fs/promises';
import { parseRuleSet } from './document.ts';
import { RULE_SET_SCHEMA_PATH, ruleSetJsonSchemaText } from './json-schema.ts';

const USAGE = `usage: npm run rules -- <command>
  validate <file.json>     check a rule-set document; errors name the JSON path
  import <file.json> [id]  save it on the server (a new rule set, or replace rule set <id>)
  export <id> [file.json]  write a saved rule set's document (to standard output without a file)
  schema                   rewrite rules/schema/rule-set.schema.json from the definitions`;

async function graphql(query: string, variables: Record<string, unknown>): Promise<Record<string, any>> {
  const url = process.env.CHARLA_URL ?? 'http://127.0.0.1:3000';
  const token = process.env.CHARLA_TOKEN;
  if (!token) throw new Error('set CHARLA_TOKEN to an administrator\'s token (an API token from createAccessToken)');
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const result = (await response.json()) as { data?: Record<string, any>; errors?: Array<{ message: string; extensions?: { details?: { errors?: Array<{ path: string; message: string }> } } }> };
  if (result.errors?.length) {
    const details = result.errors[0]!.extensions?.details?.errors;
    throw new Error(details ? details.map((error) => `${error.path || 'document'}: ${error.message}`).join('\n') : result.errors[0]!.message);
  }
  return result.data!;
}

async function main(argv: string[]): Promise<number> {
  const [command, first, second] = argv;
  switch (command) {
    case 'validate': {
      if (!first) break;
      const parsed = parseRuleSet(await readFile(first, 'utf8'));
      if (parsed.ok) {
        process.stdout.write(`${first}: valid (${parsed.ruleSet.rules.length} rules)\n`);
        return 0;
      }
      for (const error of parsed.errors) process.stderr.write(`${first}: ${error.path || 'document'}: ${error.message}\n`);
      return 1;
    }
    case 'import': {
      if (!first) break;
      const data = await graphql(`mutation($id: ID, $json: JSON!) { saveRuleSet(id: $id, json: $json) { id name version } }`, {
        id: second ?? null,
        json: await readFile(first, 'utf8'),
      });
      process.stdout.write(`saved "${data.saveRuleSet.name}" as ${data.saveRuleSet.id}, version ${data.saveRuleSet.version}\n`);
      return 0;
    }
    case 'export': {
      if (!first) break;
      const data = await graphql(`query($id: ID!) { ruleSet(id: $id) { document } }`, { id: first });
      const text = `${JSON.stringify(data.ruleSet.document, null, 2)}\n`;
      if (second) await writeFile(second, text);
      else process.stdout.write(text);
      return 0;
    }
    case 'schema':
      await writeFile(RULE_SET_SCHEMA_PATH, ruleSetJsonSchemaText());
      process.stdout.write('wrote rules/schema/rule-set.schema.json\n');
      return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

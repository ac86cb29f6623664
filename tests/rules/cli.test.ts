// `npm run rules -- validate|import|export`: the rules CLI, run as a separate process against
// files and a real server.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../support/charla.ts';
import { buildAccount, buildAgent, type BuiltAgent } from '../support/factories.ts';

const run = promisify(execFile);
let directory: string;
let charla: TestCharla;
let admin: BuiltAgent;

async function rules(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'rules/src/cli.ts', ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const document = {
  version: 1,
  name: 'Urgent words',
  rules: [
    {
      id: 'urgent',
      name: 'Urgent messages get a high priority',
      on: 'message.created',
      conditions: { all: [{ fact: 'message.content', operator: 'hasWord', value: ['urgente', 'urgent'] }] },
      actions: [{ type: 'set_priority', params: { priority: 'urgent' } }],
    },
  ],
};

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'charla-rules-cli-'));
  charla = await startTestCharla();
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator' });
});

afterAll(async () => {
  await stopAllTestCharlas();
  await rm(directory, { recursive: true, force: true });
});

describe('the rules CLI', () => {
  it('validates a document, naming the JSON path of each problem', async () => {
    const good = join(directory, 'good.json');
    const bad = join(directory, 'bad.json');
    await writeFile(good, JSON.stringify(document));
    await writeFile(bad, JSON.stringify({ ...document, rules: [{ ...document.rules[0], on: 'message.sent' }] }));
    expect(await rules(['validate', good])).toMatchObject({ code: 0, stdout: `${good}: valid (1 rules)\n` });
    const refused = await rules(['validate', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${bad}: rules[0].on: unknown event "message.sent"`);
    expect((await rules(['frobnicate'])).code).toBe(2);
  });

  it('imports a document into a running server and exports it back', async () => {
    const file = join(directory, 'import.json');
    await writeFile(file, JSON.stringify(document));
    const env = { CHARLA_URL: charla.url, CHARLA_TOKEN: admin.token };
    const imported = await rules(['import', file], env);
    expect(imported.code).toBe(0);
    const id = /as ([0-9a-f]{24}), version 1/.exec(imported.stdout)?.[1];
    expect(id).toBeDefined();

    const out = join(directory, 'export.json');
    expect((await rules(['export', id!, out], env)).code).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ ...document, enabled: true, inboxes: ['*'] });

    const agent = await buildAgent(admin.user.accountId);
    const forbidden = await rules(['import', file], { ...env, CHARLA_TOKEN: agent.token });
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain('You may not access administration');
  });
});

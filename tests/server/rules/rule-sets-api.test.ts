// Rule sets through GraphQL: saved, versioned, refused with JSON paths, dry-run explained, and
// acting on conversations through the same commands as people — "if a message contains 'factura',
// add label billing and assign team Billing".
import { verifySignature } from '@charla/channels';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { Label } from '../../../server/src/db/models/label.ts';
import { RuleRun } from '../../../server/src/db/models/rule-run.ts';
import { RuleSetModel, RuleSetVersion } from '../../../server/src/db/models/rule-set.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, buildTeam, type BuiltAgent } from '../../support/factories.ts';
import { agentMessages, currentConversationId, openWidget, say } from '../widget/visitor-client.ts';

let charla: TestCharla;
let admin: BuiltAgent;
let agent: BuiltAgent;
let inbox: InboxDoc;
let billingTeamId: string;
let hook: { server: Server; url: string; received: Array<{ path: string; headers: IncomingMessage['headers']; raw: Buffer; body: any }> };

const SAVE = `mutation($id: ID, $json: JSON!) { saveRuleSet(id: $id, json: $json) { id name version enabled inboxes document versions { version savedBy { name } } } }`;
const DRY_RUN = `mutation($json: JSON!, $event: RuleSampleEvent!) { dryRunRuleSet(json: $json, event: $event) {
  appliesToInbox rules { ruleId name matched stopped conditions } actions { ruleId type params } } }`;
const CONVERSATION = `query($id: ID!) { conversation(id: $id) { labels team { name } priority status } }`;

const facturaRuleSet = (overrides: Record<string, unknown> = {}) => ({
  version: 1,
  name: `Billing ${Math.random().toString(36).slice(2, 8)}`,
  inboxes: [String(inbox._id)],
  rules: [
    {
      id: 'factura',
      name: 'Billing questions go to Billing',
      on: 'message.created',
      conditions: {
        all: [
          { fact: 'message.type', operator: 'equal', value: 'incoming' },
          { fact: 'message.content', operator: 'hasWord', value: ['factura', 'invoice'] },
        ],
      },
      actions: [
        { type: 'add_label', params: { labels: ['billing'] } },
        { type: 'assign_team', params: { teamId: billingTeamId } },
        { type: 'set_priority', params: { priority: 'high' } },
      ],
    },
  ],
  ...overrides,
});

beforeAll(async () => {
  // The test's webhook receiver listens on 127.0.0.1, which production refuses by default.
  charla = await startTestCharla({}, { OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1' });
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator', name: 'Luis Admin' });
  agent = await buildAgent(account._id, { name: 'Ana García' });
  inbox = await buildInbox(account._id, { memberIds: [agent.user._id] });
  billingTeamId = String((await buildTeam(account._id, { name: 'Billing', memberIds: [agent.user._id] }))._id);
  for (const title of ['billing', 'orders', 'triaged', 'urgent', 'later']) await Label.create({ accountId: account._id, title });

  const received: typeof hook.received = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      received.push({ path: request.url ?? '', headers: request.headers, raw, body: JSON.parse(raw.toString('utf8') || 'null') });
      response.statusCode = request.url === '/broken' ? 500 : 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hook = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
});

afterAll(async () => {
  await stopAllTestCharlas();
  await new Promise((resolve) => hook.server.close(resolve));
});

async function visitorWrites(text: string) {
  const visitor = await openWidget(charla, inbox.websiteToken!);
  await say(charla, visitor.visitorToken, text);
  const conversationId = await currentConversationId(charla, visitor.visitorToken);
  await charla.services.bus.idle();
  return { visitor, conversationId };
}

describe('saving a rule set', () => {
  it('acts on the next message: label, team and priority, signed by the Automation System', async () => {
    const saved = (await charla.mutate(SAVE, { json: facturaRuleSet() }, admin.token)).saveRuleSet;
    expect(saved).toMatchObject({ version: 1, enabled: true, inboxes: [String(inbox._id)], versions: [{ version: 1, savedBy: { name: 'Luis Admin' } }] });

    const { conversationId } = await visitorWrites('Hola, no encuentro mi FACTURA de marzo');
    expect((await charla.mutate(CONVERSATION, { id: conversationId }, agent.token)).conversation).toMatchObject({
      labels: ['billing'],
      team: { name: 'Billing' },
      priority: 'HIGH',
    });
    const activity = (await agentMessages(charla, agent.token, conversationId)).filter((message) => message.messageType === 'ACTIVITY').map((message) => message.content);
    expect(activity).toEqual(['Automation System added billing', 'Assigned to Billing team by Automation System']);

    const other = await visitorWrites('Hola, ¿hacéis envíos?');
    expect((await charla.mutate(CONVERSATION, { id: other.conversationId }, agent.token)).conversation.labels).toEqual([]);
    await charla.mutate(`mutation($id: ID!) { deleteRuleSet(id: $id) }`, { id: saved.id }, admin.token);
  });

  it('keeps every version and stops acting once disabled', async () => {
    const document = facturaRuleSet();
    const first = (await charla.mutate(SAVE, { json: document }, admin.token)).saveRuleSet;
    const second = (await charla.mutate(SAVE, { id: first.id, json: JSON.stringify({ ...document, enabled: false }) }, admin.token)).saveRuleSet;
    expect(second).toMatchObject({ id: first.id, version: 2, enabled: false });
    expect(second.versions.map((version: { version: number }) => version.version)).toEqual([2, 1]);

    const { conversationId } = await visitorWrites('Otra factura más');
    expect((await charla.mutate(CONVERSATION, { id: conversationId }, agent.token)).conversation.labels).toEqual([]);
    await charla.mutate(`mutation($id: ID!) { deleteRuleSet(id: $id) }`, { id: first.id }, admin.token);
    expect(await RuleSetVersion.countDocuments({ ruleSetId: first.id })).toBe(0);
  });

  it('refuses an invalid document with the JSON path of each problem, and stores nothing', async () => {
    const saved = (await charla.mutate(SAVE, { json: facturaRuleSet() }, admin.token)).saveRuleSet;
    const before = { sets: await RuleSetModel.countDocuments(), versions: await RuleSetVersion.countDocuments() };
    const broken = facturaRuleSet({
      rules: [{ ...facturaRuleSet().rules[0], actions: [{ type: 'assign_team', params: { teamId: 'Billing' } }, { type: 'teleport', params: {} }] }],
    });
    for (const id of [undefined, saved.id]) {
      const result = await charla.graphql(SAVE, { id, json: broken }, admin.token);
      expect(result.errors?.[0]?.extensions?.code).toBe('rules/invalid');
      expect(result.errors?.[0]?.message).toBe('rules[0].actions[0].params.teamId: must be an id (24 hexadecimal characters)');
      expect((result.errors?.[0]?.extensions?.details as { errors: unknown[] }).errors).toEqual([
        { path: 'rules[0].actions[0].params.teamId', message: 'must be an id (24 hexadecimal characters)' },
        { path: 'rules[0].actions[1].type', message: expect.stringContaining('unknown action type') },
      ]);
    }
    const unknownRecords = facturaRuleSet({
      inboxes: ['aaaaaaaaaaaaaaaaaaaaaaaa'],
      rules: [{ ...facturaRuleSet().rules[0], actions: [{ type: 'add_label', params: { labels: ['billing', 'nonexistent'] } }, { type: 'assign_team', params: { teamId: 'bbbbbbbbbbbbbbbbbbbbbbbb' } }] }],
    });
    expect((await charla.graphql(SAVE, { json: unknownRecords }, admin.token)).errors?.[0]?.extensions?.details).toEqual({
      errors: [
        { path: 'inboxes[0]', message: 'is not an inbox of this account' },
        { path: 'rules[0].actions[0].params.labels[1]', message: 'is not a label of this account' },
        { path: 'rules[0].actions[1].params.teamId', message: 'is not a team of this account' },
      ],
    });
    expect({ sets: await RuleSetModel.countDocuments(), versions: await RuleSetVersion.countDocuments() }).toEqual(before);
    expect((await RuleSetModel.findById(saved.id).lean())?.version).toBe(1);
    await charla.mutate(`mutation($id: ID!) { deleteRuleSet(id: $id) }`, { id: saved.id }, admin.token);
  });

  it('is for administrators only, and ids must be ids', async () => {
    for (const [query, variables] of [
      [SAVE, { json: facturaRuleSet() }],
      [`{ ruleSets { id } }`, {}],
      [`{ rulePresets { key } }`, {}],
      [DRY_RUN, { json: facturaRuleSet(), event: { on: 'MESSAGE_CREATED' } }],
    ] as const) {
      expect((await charla.graphql(query, variables, agent.token)).errors?.[0]?.extensions?.code).toBe('auth/forbidden');
      expect((await charla.graphql(query, variables)).errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
    }
    const injected = await charla.graphql(`query($id: ID!) { ruleSet(id: $id) { id } }`, { id: { $ne: null } }, admin.token);
    expect(injected.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const notAnId = await charla.graphql(`query($id: ID!) { ruleSet(id: $id) { id } }`, { id: '{"$ne":null}' }, admin.token);
    expect(notAnId.errors?.[0]?.extensions?.code).toBe('input/invalid');
  });
});

describe('a dry run', () => {
  it('explains which rules would match and which conditions failed, on sample facts', async () => {
    const json = facturaRuleSet();
    const sample = await charla.mutate(DRY_RUN, { json, event: { on: 'MESSAGE_CREATED', facts: { 'message.type': 'incoming', 'message.content': 'Mi factura' } } }, admin.token);
    expect(sample.dryRunRuleSet).toMatchObject({
      rules: [{ ruleId: 'factura', matched: true, stopped: false }],
      actions: [
        { ruleId: 'factura', type: 'ADD_LABEL', params: { labels: ['billing'] } },
        { ruleId: 'factura', type: 'ASSIGN_TEAM', params: { teamId: billingTeamId } },
        { ruleId: 'factura', type: 'SET_PRIORITY', params: { priority: 'high' } },
      ],
    });
    const miss = await charla.mutate(DRY_RUN, { json, event: { on: 'MESSAGE_CREATED', facts: { 'message.type': 'incoming', 'message.content': 'Hola' } } }, admin.token);
    expect(miss.dryRunRuleSet.actions).toEqual([]);
    expect(miss.dryRunRuleSet.rules[0].conditions).toMatchObject({
      kind: 'all',
      result: false,
      conditions: [
        { fact: 'message.type', factValue: 'incoming', result: true },
        { fact: 'message.content', operator: 'hasWord', factValue: 'Hola', result: false },
      ],
    });
  });

  it('reads a real conversation and message, and changes nothing', async () => {
    const { conversationId } = await visitorWrites('Quería preguntar por una factura');
    const [message] = await agentMessages(charla, agent.token, conversationId);
    const result = await charla.mutate(DRY_RUN, { json: facturaRuleSet(), event: { on: 'MESSAGE_CREATED', conversationId, messageId: message!.id } }, admin.token);
    expect(result.dryRunRuleSet).toMatchObject({ appliesToInbox: true, rules: [{ matched: true }] });
    expect((await charla.mutate(CONVERSATION, { id: conversationId }, agent.token)).conversation.labels).toEqual([]);

    const unknownFact = await charla.graphql(DRY_RUN, { json: facturaRuleSet(), event: { on: 'MESSAGE_CREATED', facts: { 'message.mood': 'angry' } } }, admin.token);
    expect(unknownFact.errors?.[0]?.extensions?.code).toBe('input/invalid');
  });
});

describe('running actions', () => {
  it('a failing webhook does not stop the actions after it, and the run records both', async () => {
    const json = {
      version: 1,
      name: 'Webhooks',
      inboxes: [String(inbox._id)],
      rules: [
        {
          id: 'notify',
          name: 'Tell the CRM',
          on: 'message.created',
          conditions: { all: [{ fact: 'message.content', operator: 'contains', value: 'pedido' }] },
          actions: [
            { type: 'send_webhook', params: { url: `${hook.url}/broken` } },
            { type: 'add_label', params: { labels: ['orders'] } },
            { type: 'send_webhook', params: { url: `${hook.url}/crm` } },
          ],
        },
      ],
    };
    const saved = (await charla.mutate(SAVE, { json }, admin.token)).saveRuleSet;
    const { webhookSecret } = (await charla.mutate(`query($id: ID!) { ruleSet(id: $id) { webhookSecret } }`, { id: saved.id }, admin.token)).ruleSet;
    const { conversationId } = await visitorWrites('¿Dónde está mi pedido?');
    expect((await charla.mutate(CONVERSATION, { id: conversationId }, agent.token)).conversation.labels).toEqual(['orders']);

    const runs = (await charla.mutate(`query($id: ID!) { ruleSet(id: $id) { runs { ruleId event conversationId actions { type outcome detail } } } }`, { id: saved.id }, admin.token))
      .ruleSet.runs;
    expect(runs).toEqual([
      {
        ruleId: 'notify',
        event: 'MESSAGE_CREATED',
        conversationId,
        actions: [
          { type: 'SEND_WEBHOOK', outcome: 'failed', detail: 'the webhook answered HTTP 500' },
          { type: 'ADD_LABEL', outcome: 'done', detail: null },
          { type: 'SEND_WEBHOOK', outcome: 'done', detail: 'HTTP 204' },
        ],
      },
    ]);
    const delivered = hook.received.find((request) => request.path === '/crm')!;
    expect(delivered.body).toMatchObject({
      event: 'message.created',
      rule: 'notify',
      conversation: { id: conversationId, status: 'OPEN'.toLowerCase() },
      message: { messageType: 'incoming', content: '¿Dónde está mi pedido?' },
    });
    // Signed with the rule set's secret, like account webhooks; each POST has its own delivery id.
    expect(webhookSecret).toMatch(/^[\w-]{43}$/);
    expect(verifySignature(webhookSecret, delivered.headers['x-charla-signature'] as string, delivered.raw, new Date())).toBe(true);
    expect(verifySignature('another-secret', delivered.headers['x-charla-signature'] as string, delivered.raw, new Date())).toBe(false);
    expect(delivered.headers['x-charla-event']).toBe('message.created');
    expect(delivered.headers['x-charla-delivery']).toMatch(/^rule_[0-9a-f-]{36}$/);
    await charla.mutate(`mutation($id: ID!) { deleteRuleSet(id: $id) }`, { id: saved.id }, admin.token);
  });

  it('a rule held back by its limit does not stop the rules after it', async () => {
    const json = {
      version: 1,
      name: 'Welcome once, then the fallback',
      inboxes: [String(inbox._id)],
      rules: [
        {
          id: 'welcome',
          name: 'Welcome',
          on: 'message.created',
          priority: 10,
          limit: { per: 'conversation' },
          stopProcessing: true,
          conditions: { all: [{ fact: 'message.type', operator: 'equal', value: 'incoming' }] },
          actions: [{ type: 'send_message', params: { text: 'Bienvenido' } }],
        },
        {
          id: 'fallback',
          name: 'Fallback',
          on: 'message.created',
          conditions: { all: [{ fact: 'message.type', operator: 'equal', value: 'incoming' }] },
          actions: [{ type: 'send_message', params: { text: 'Te leemos' } }],
        },
      ],
    };
    const saved = (await charla.mutate(SAVE, { json }, admin.token)).saveRuleSet;
    const { visitor, conversationId } = await visitorWrites('Hola');
    await say(charla, visitor.visitorToken, 'Otra pregunta');
    await charla.services.bus.idle();
    const templates = (await agentMessages(charla, agent.token, conversationId)).filter((message) => message.messageType === 'TEMPLATE');
    expect(templates.map((message) => message.content)).toEqual(['Bienvenido', 'Te leemos']);
    await charla.mutate(`mutation($id: ID!) { deleteRuleSet(id: $id) }`, { id: saved.id }, admin.token);
  });

  it('a rule reacting to its own change runs once, not in a loop', async () => {
    const json = {
      version: 1,
      name: 'Echo',
      inboxes: [String(inbox._id)],
      rules: [
        {
          id: 'tag-on-label',
          name: 'Any label change adds "triaged"',
          on: 'conversation.updated',
          conditions: { all: [{ fact: 'conversation.changes', operator: 'contains', value: 'labels' }] },
          actions: [{ type: 'add_label', params: { labels: ['triaged'] } }, { type: 'remove_label', params: { labels: ['later'] } }],
        },
      ],
    };
    const saved = (await charla.mutate(SAVE, { json }, admin.token)).saveRuleSet;
    const { conversationId } = await visitorWrites('Hola');
    await charla.mutate(`mutation($id: ID!) { addLabels(conversationId: $id, labels: ["urgent", "later"]) { id } }`, { id: conversationId }, agent.token);
    await charla.services.bus.idle();
    expect((await charla.mutate(CONVERSATION, { id: conversationId }, agent.token)).conversation.labels).toEqual(['urgent', 'triaged']);
    expect(await RuleRun.countDocuments({ ruleSetKey: saved.id, conversationId })).toBe(1);
    await charla.mutate(`mutation($id: ID!) { deleteRuleSet(id: $id) }`, { id: saved.id }, admin.token);
  });
});

describe('the vocabulary and presets', () => {
  it('are served for editors', async () => {
    const data = await charla.mutate(`{ ruleVocabulary rulePresets { key name setting document } }`, {}, admin.token);
    expect(data.ruleVocabulary.facts['message.content']).toMatchObject({ type: 'string' });
    expect(data.ruleVocabulary.operators.hasWord.appliesTo).toEqual(['string']);
    expect(Object.keys(data.ruleVocabulary.actions)).toContain('handoff');
    expect(data.rulePresets.map((preset: { key: string; setting: string | null }) => [preset.key, preset.setting])).toEqual([
      ['out-of-office', 'workingHours'],
      ['greeting', 'greeting'],
      ['email-capture', 'emailCollect'],
      ['csat', 'csat'],
      ['bot-handoff', 'botEnabled'],
      ['faq-bot', null],
    ]);
  });

  it('a preset saved as a rule set runs like any other (the FAQ bot answers in Spanish)', async () => {
    const presets = (await charla.mutate(`{ rulePresets { key document } }`, {}, admin.token)).rulePresets;
    const faq = presets.find((preset: { key: string }) => preset.key === 'faq-bot').document;
    const botInbox = await buildInbox(inbox.accountId, { memberIds: [agent.user._id], settings: { botEnabled: true, locale: 'es' } as never });
    const saved = (await charla.mutate(SAVE, { json: { ...faq, inboxes: [String(botInbox._id)] } }, admin.token)).saveRuleSet;
    const visitor = await openWidget(charla, botInbox.websiteToken!);
    await say(charla, visitor.visitorToken, '¿Cuál es vuestro horario?');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await charla.services.bus.idle();
    const templates = (await agentMessages(charla, agent.token, conversationId)).filter((message) => message.messageType === 'TEMPLATE');
    expect(templates.map((message) => message.content)).toEqual(['Abrimos de lunes a viernes, de 9:00 a 18:00. Escribe "agente" para hablar con una persona.']);
    await charla.mutate(`mutation($id: ID!) { deleteRuleSet(id: $id) }`, { id: saved.id }, admin.token);
  });
});

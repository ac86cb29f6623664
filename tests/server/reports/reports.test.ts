// Reports from a scripted day, driven through the public API with the server's clock moved step
// by step: first response, reply and resolution times, conversation counts and CSAT, for the whole
// account, one agent's inboxes, one agent and one label.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportingEvent } from '../../../server/src/db/models/reporting-event.ts';
import { startTestCharla, stopAllTestCharlas, type GraphQLResult, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';

let charla: TestCharla;
let admin: BuiltAgent;
let ana: BuiltAgent;
let bruno: BuiltAgent;
let webInboxId: string;
let otherInboxId: string;
const conversations: Record<string, string> = {};

// Three hours ago: the scripted day lies in the past, so records stamped with the real time (a
// survey answer) still fall inside it.
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3 * 3600 * 1000;
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const WHOLE_DAY = { since: at(-3600).toISOString(), until: at(86_400).toISOString() };

const REPORT = `query($filter: ReportFilter!) { reports(filter: $filter) {
  conversationsCount resolutionsCount averageFirstResponseSeconds averageResolutionSeconds averageReplySeconds
  csatAverage csatResponseCount csatResponseRate } }`;
const errorCode = (result: GraphQLResult): string | undefined => result.errors?.[0]?.extensions?.code;

/** Runs `step` with the server's clock at T0 + seconds, then waits for every listener. */
async function atSecond<T>(seconds: number, step: () => Promise<T>): Promise<T> {
  charla.services.now = () => at(seconds);
  const result = await step();
  await charla.services.bus.idle();
  return result;
}

async function visitorSession(websiteToken: string): Promise<string> {
  const { widgetSession } = await charla.mutate(`mutation($t: String!) { widgetSession(websiteToken: $t) { visitorToken } }`, { t: websiteToken });
  return widgetSession.visitorToken;
}
const visitorSays = (token: string, content: string) =>
  charla.mutate(`mutation($c: String!) { sendVisitorMessage(content: $c) { id } }`, { c: content }, token);
const agentSays = (token: string, conversationId: string, content: string, isPrivate = false) =>
  charla.mutate(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId, content, private: isPrivate } }, token);
const resolve = (token: string, conversationId: string) =>
  charla.mutate(`mutation($id: ID!) { changeConversationStatus(conversationId: $id, status: RESOLVED) { id } }`, { id: conversationId }, token);
async function conversationOf(visitorToken: string): Promise<string> {
  const { visitorConversation } = await charla.mutate(`{ visitorConversation { id } }`, {}, visitorToken);
  return visitorConversation.id;
}

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator' });
  ana = await buildAgent(account._id, { name: 'Ana' });
  bruno = await buildAgent(account._id, { name: 'Bruno' });
  const web = await buildInbox(account._id, { name: 'Web', memberIds: [ana.user._id], settings: { csat: { enabled: true, display: 'emoji', message: '' }, emailCollect: false } });
  const other = await buildInbox(account._id, { name: 'Otra', memberIds: [bruno.user._id], settings: { emailCollect: false } });
  webInboxId = String(web._id);
  otherInboxId = String(other._id);
  await charla.mutate(`mutation { createLabel(input: { title: "billing" }) { id } }`, {}, admin.token);
  const realNow = charla.services.now;

  // Conversation 1 (Web, assigned to Ana): first response after 60 s; replies after 60 s and
  // 180 s (waiting since the first of two messages); resolved after 600 s; rated 4.
  const lucia = await visitorSession(web.websiteToken!);
  await atSecond(0, () => visitorSays(lucia, 'Hola'));
  conversations.first = await conversationOf(lucia);
  await atSecond(30, () =>
    charla.mutate(`mutation($id: ID!, $a: ID) { assignConversation(conversationId: $id, agentId: $a) { id } }`, { id: conversations.first, a: String(ana.user._id) }, admin.token),
  );
  await atSecond(60, () => agentSays(ana.token, conversations.first!, 'Hola, soy Ana'));
  await atSecond(120, () => visitorSays(lucia, 'Tengo una duda'));
  await atSecond(150, () => visitorSays(lucia, '¿Hola?'));
  await atSecond(300, () => agentSays(ana.token, conversations.first!, 'Dime'));
  await atSecond(360, () => agentSays(ana.token, conversations.first!, 'nota interna', true));
  await atSecond(400, () => agentSays(ana.token, conversations.first!, '¿Algo más?'));
  await atSecond(600, () => resolve(ana.token, conversations.first!));
  const { visitorMessages } = await charla.mutate(`{ visitorMessages(first: 50) { edges { node { id contentType } } } }`, {}, lucia);
  const survey = visitorMessages.edges.find((edge: { node: { contentType: string } }) => edge.node.contentType === 'INPUT_CSAT');
  await atSecond(700, () => charla.mutate(`mutation($id: ID!) { submitCsat(messageId: $id, rating: 4) { id } }`, { id: survey.node.id }, lucia));

  // Conversation 2 (Web, labelled billing, unassigned): first response after 300 s, resolved by
  // the administrator after 400 s; the survey goes unanswered.
  const marco = await visitorSession(web.websiteToken!);
  await atSecond(1000, () => visitorSays(marco, 'Buenas'));
  conversations.second = await conversationOf(marco);
  await atSecond(1010, () =>
    charla.mutate(`mutation($id: ID!) { addLabels(conversationId: $id, labels: ["billing"]) { id } }`, { id: conversations.second }, admin.token),
  );
  await atSecond(1300, () => agentSays(ana.token, conversations.second!, 'Hola Marco'));
  await atSecond(1400, () => resolve(admin.token, conversations.second!));

  // Conversation 3 (Otra, Bruno's inbox): first response after 100 s, still open.
  const pia = await visitorSession(other.websiteToken!);
  await atSecond(2000, () => visitorSays(pia, 'Hello'));
  conversations.third = await conversationOf(pia);
  await atSecond(2100, () => agentSays(bruno.token, conversations.third!, 'Hi'));
  charla.services.now = realNow;
});
afterAll(stopAllTestCharlas);

describe('reporting events', () => {
  it('records one first response per conversation, a reply time per answer to a waiting contact, and each resolution', async () => {
    const events = await ReportingEvent.find({ conversationId: conversations.first }).sort({ eventEndTime: 1, name: 1 }).lean();
    expect(events.map((event) => [event.name, event.value, String(event.userId)])).toEqual([
      ['first_response', 60, String(ana.user._id)],
      ['reply_time', 60, String(ana.user._id)],
      ['reply_time', 180, String(ana.user._id)],
      ['conversation_resolved', 600, String(ana.user._id)],
    ]);
  });
});

describe('reports', () => {
  it('covers the whole account for an administrator', async () => {
    const { reports } = await charla.mutate(REPORT, { filter: WHOLE_DAY }, admin.token);
    expect(reports).toEqual({
      conversationsCount: 3,
      resolutionsCount: 2,
      averageFirstResponseSeconds: expect.closeTo((60 + 300 + 100) / 3, 6),
      averageResolutionSeconds: 500,
      averageReplySeconds: (60 + 180 + 300 + 100) / 4,
      csatAverage: 4,
      csatResponseCount: 1,
      csatResponseRate: 0.5,
    });
  });

  it("covers only an agent's own inboxes, and refuses another inbox", async () => {
    const { reports } = await charla.mutate(REPORT, { filter: WHOLE_DAY }, ana.token);
    expect(reports).toMatchObject({ conversationsCount: 2, resolutionsCount: 2, averageFirstResponseSeconds: 180, averageReplySeconds: 180 });
    const { reports: brunos } = await charla.mutate(REPORT, { filter: WHOLE_DAY }, bruno.token);
    expect(brunos).toEqual({
      conversationsCount: 1,
      resolutionsCount: 0,
      averageFirstResponseSeconds: 100,
      averageResolutionSeconds: null,
      averageReplySeconds: 100,
      csatAverage: null,
      csatResponseCount: 0,
      csatResponseRate: null,
    });
    expect(errorCode(await charla.graphql(REPORT, { filter: { ...WHOLE_DAY, inboxId: webInboxId } }, bruno.token))).toBe('auth/forbidden');
  });

  it('filters by inbox, by agent and by label', async () => {
    const byInbox = await charla.mutate(REPORT, { filter: { ...WHOLE_DAY, inboxId: otherInboxId } }, admin.token);
    expect(byInbox.reports).toMatchObject({ conversationsCount: 1, averageFirstResponseSeconds: 100 });

    const byAgent = await charla.mutate(REPORT, { filter: { ...WHOLE_DAY, agentId: String(ana.user._id) } }, admin.token);
    expect(byAgent.reports).toEqual({
      conversationsCount: 1,
      resolutionsCount: 1,
      averageFirstResponseSeconds: 180,
      averageResolutionSeconds: 600,
      averageReplySeconds: 180,
      csatAverage: 4,
      csatResponseCount: 1,
      csatResponseRate: 1,
    });

    const byLabel = await charla.mutate(REPORT, { filter: { ...WHOLE_DAY, label: 'Billing' } }, admin.token);
    expect(byLabel.reports).toEqual({
      conversationsCount: 1,
      resolutionsCount: 1,
      averageFirstResponseSeconds: 300,
      averageResolutionSeconds: 400,
      averageReplySeconds: 300,
      csatAverage: null,
      csatResponseCount: 0,
      csatResponseRate: 0,
    });
  });

  it('counts only what happened in the period', async () => {
    const { reports } = await charla.mutate(REPORT, { filter: { since: at(900).toISOString(), until: at(1350).toISOString() } }, admin.token);
    expect(reports).toMatchObject({ conversationsCount: 1, resolutionsCount: 0, averageFirstResponseSeconds: 300, csatResponseCount: 0 });
  });

  it('refuses a period that ends before it starts, and anonymous callers', async () => {
    expect(errorCode(await charla.graphql(REPORT, { filter: { since: WHOLE_DAY.until, until: WHOLE_DAY.since } }, admin.token))).toBe('input/invalid');
    expect(errorCode(await charla.graphql(REPORT, { filter: WHOLE_DAY }))).toBe('auth/unauthenticated');
  });
});

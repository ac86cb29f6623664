// Who may do what, checked on every query, mutation and subscription: an agent outside the inbox,
// a visitor of another conversation, another account and a bad or missing token each get
// auth/forbidden or auth/unauthenticated, and nothing changes.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessage } from '../../../server/src/commands/create-message.ts';
import { AccessToken } from '../../../server/src/db/models/access-token.ts';
import { Contact } from '../../../server/src/db/models/contact.ts';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { CsatResponse } from '../../../server/src/db/models/csat-response.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import { startTestCharla, stopAllTestCharlas, type GraphQLResult, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox, type BuiltAgent } from '../../support/factories.ts';

let charla: TestCharla;
let member: BuiltAgent;
let outsider: BuiltAgent;
let otherAccountAdmin: BuiltAgent;
let visitorToken: string;
let otherVisitorToken: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  member = await buildAgent(account._id);
  outsider = await buildAgent(account._id);
  const inbox = await buildInbox(account._id, { memberIds: [member.user._id] });
  const outsiderInbox = await buildInbox(account._id, { memberIds: [outsider.user._id] });
  ids.outsiderConversation = String((await buildConversation(await buildContact(outsiderInbox)))._id);
  const otherAccount = await buildAccount();
  otherAccountAdmin = await buildAgent(otherAccount._id, { role: 'administrator' });

  const visitor = await buildContact(inbox);
  visitorToken = visitor.visitorToken;
  const conversation = await buildConversation(visitor);
  const otherVisitor = await buildContact(inbox);
  otherVisitorToken = otherVisitor.visitorToken;
  await buildConversation(otherVisitor);

  const reply = await charla.mutate(
    `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
    { input: { conversationId: String(conversation._id), content: 'Hola, soy Ana' } },
    member.token,
  );
  // The bot's e-mail and survey inputs, as the capture rule and a resolve would post them.
  const bot = { type: 'system', accountId: account._id } as const;
  ids.emailInput = String((await createMessage(charla.services, { conversation, messageType: 'template', contentType: 'input_email', content: 'Get notified by email', performedBy: bot })).message._id);
  ids.csatInput = String((await createMessage(charla.services, { conversation, messageType: 'template', contentType: 'input_csat', content: 'Please rate the conversation', performedBy: bot })).message._id);
  ids.conversation = String(conversation._id);
  ids.inbox = String(inbox._id);
  ids.contact = String(visitor.contact._id);
  ids.message = reply.sendMessage.id;
  ids.member = String(member.user._id);
});

afterAll(stopAllTestCharlas);

const errorCode = (result: GraphQLResult): string | undefined => result.errors?.[0]?.extensions?.code;

interface Operation {
  name: string;
  query: string;
  variables?: () => Record<string, unknown>;
}

// Operations on one conversation (or its messages, inbox or contact) by an agent.
const conversationOperations: Operation[] = [
  { name: 'conversation', query: `query($id: ID!) { conversation(id: $id) { id } }`, variables: () => ({ id: ids.conversation }) },
  { name: 'inbox', query: `query($id: ID!) { inbox(id: $id) { id } }`, variables: () => ({ id: ids.inbox }) },
  { name: 'assignConversation', query: `mutation($id: ID!, $a: ID) { assignConversation(conversationId: $id, agentId: $a) { id } }`, variables: () => ({ id: ids.conversation, a: ids.member }) },
  { name: 'assignTeam', query: `mutation($id: ID!) { assignTeam(conversationId: $id, teamId: null) { id } }`, variables: () => ({ id: ids.conversation }) },
  { name: 'addLabels', query: `mutation($id: ID!) { addLabels(conversationId: $id, labels: ["x"]) { id } }`, variables: () => ({ id: ids.conversation }) },
  { name: 'removeLabels', query: `mutation($id: ID!) { removeLabels(conversationId: $id, labels: ["x"]) { id } }`, variables: () => ({ id: ids.conversation }) },
  { name: 'changeConversationStatus', query: `mutation($id: ID!) { changeConversationStatus(conversationId: $id, status: RESOLVED) { id } }`, variables: () => ({ id: ids.conversation }) },
  { name: 'muteConversation', query: `mutation($id: ID!) { muteConversation(id: $id) { id } }`, variables: () => ({ id: ids.conversation }) },
  { name: 'unmuteConversation', query: `mutation($id: ID!) { unmuteConversation(id: $id) { id } }`, variables: () => ({ id: ids.conversation }) },
  { name: 'sendTranscript', query: `mutation($id: ID!) { sendTranscript(conversationId: $id, to: { email: "x@example.test" }) }`, variables: () => ({ id: ids.conversation }) },
  { name: 'toggleTyping', query: `mutation($id: ID!) { toggleTyping(conversationId: $id, on: true) }`, variables: () => ({ id: ids.conversation }) },
  { name: 'sendMessage', query: `mutation($id: ID!) { sendMessage(input: { conversationId: $id, content: "intruso" }) { id } }`, variables: () => ({ id: ids.conversation }) },
  { name: 'deleteMessage', query: `mutation($id: ID!) { deleteMessage(id: $id) { id } }`, variables: () => ({ id: ids.message }) },
];

// Operations of the agent API that need no particular conversation.
const agentOperations: Operation[] = [
  { name: 'me', query: `{ me { id } }` },
  { name: 'inboxes', query: `{ inboxes { id } }` },
  { name: 'agents', query: `{ agents { id } }` },
  { name: 'teams', query: `{ teams { id } }` },
  { name: 'labels', query: `{ labels { id } }` },
  { name: 'cannedResponses', query: `{ cannedResponses { id } }` },
  { name: 'conversations', query: `{ conversations { edges { node { id } } } }` },
  { name: 'contacts', query: `{ contacts { edges { node { id } } } }` },
  { name: 'notifications', query: `{ notifications { edges { node { id } } } }` },
  { name: 'unreadNotificationCount', query: `{ unreadNotificationCount }` },
  { name: 'reports', query: `{ reports(filter: { since: "2026-01-01T00:00:00Z", until: "2027-01-01T00:00:00Z" }) { conversationsCount } }` },
  { name: 'markNotificationsRead', query: `mutation { markNotificationsRead }` },
  { name: 'setAvailability', query: `mutation { setAvailability(status: BUSY) { id } }` },
  { name: 'createAccessToken', query: `mutation { createAccessToken(name: "x") { token } }` },
  { name: 'accessTokens', query: `{ accessTokens { id } }` },
  { name: 'revokeAccessToken', query: `mutation { revokeAccessToken(id: "000000000000000000000000") }` },
  { name: 'createLabel', query: `mutation { createLabel(input: { title: "intruder" }) { id } }` },
];

// Operations of the visitor API.
const visitorOperations: Operation[] = [
  { name: 'visitorMessages', query: `{ visitorMessages { edges { node { id } } } }` },
  { name: 'visitorConversation', query: `{ visitorConversation { id } }` },
  { name: 'sendVisitorMessage', query: `mutation { sendVisitorMessage(content: "hola") { id } }` },
  { name: 'startNewConversation', query: `mutation { startNewConversation(content: "hola") { id } }` },
  { name: 'submitPreChatForm', query: `mutation { submitPreChatForm(values: {}) { id } }` },
  { name: 'requestTranscript', query: `mutation { requestTranscript }` },
  { name: 'visitorTyping', query: `mutation { visitorTyping(on: true) }` },
];

async function run(operation: Operation, token?: string): Promise<GraphQLResult> {
  return charla.graphql(operation.query, operation.variables?.(), token);
}

async function snapshot(): Promise<string> {
  const [conversations, messages, contacts, csatResponses, accessTokens] = await Promise.all([
    Conversation.find({}, { updatedAt: 0 }).sort({ _id: 1 }).lean(),
    Message.find({}, { updatedAt: 0 }).sort({ _id: 1 }).lean(),
    Contact.find({}, { updatedAt: 0 }).sort({ _id: 1 }).lean(),
    CsatResponse.find({}).sort({ _id: 1 }).lean(),
    // lastUsedAt moves whenever a valid token is used; which tokens exist is what matters.
    AccessToken.find({}, { lastUsedAt: 0, updatedAt: 0 }).sort({ _id: 1 }).lean(),
  ]);
  return JSON.stringify({ conversations, messages, contacts, csatResponses, accessTokens });
}

/** A token of the right shape and prefix that the server never issued. */
const forged = (prefix: 'chs_' | 'cha_' | 'chv_'): string => prefix + randomBytes(32).toString('base64url');
const PREFIXES = ['chs_', 'cha_', 'chv_'] as const;

describe('without a valid token', () => {
  for (const operation of [...conversationOperations, ...agentOperations, ...visitorOperations]) {
    it(`${operation.name} answers auth/unauthenticated without a token and with a forged one`, async () => {
      expect(errorCode(await run(operation))).toBe('auth/unauthenticated');
      expect(errorCode(await run(operation, 'chs_forged-token-that-was-never-issued'))).toBe('auth/unauthenticated');
    });
  }
});

describe('an agent of the same account outside the inbox, and another account', () => {
  for (const operation of conversationOperations) {
    it(`${operation.name} answers auth/forbidden and changes nothing`, async () => {
      const before = await snapshot();
      expect(errorCode(await run(operation, outsider.token))).toBe('auth/forbidden');
      expect(errorCode(await run(operation, otherAccountAdmin.token))).toBe('auth/forbidden');
      expect(await snapshot()).toBe(before);
    });
  }

  it('contact(id) of another account is forbidden', async () => {
    const result = await charla.graphql(`query($id: ID!) { contact(id: $id) { id } }`, { id: ids.contact }, otherAccountAdmin.token);
    expect(errorCode(result)).toBe('auth/forbidden');
  });

  it('lists show nothing of inboxes the agent is not a member of', async () => {
    const data = await charla.mutate(`{ conversations(filter: { status: ALL }) { edges { node { id } } counts { all } } }`, {}, outsider.token);
    expect(data.conversations.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual([ids.outsiderConversation]);
    expect(data.conversations.counts.all).toBe(1);
  });
});

describe('a visitor token on the agent API, and an agent token on the visitor API', () => {
  for (const operation of [...conversationOperations, ...agentOperations]) {
    it(`${operation.name} refuses a visitor with auth/forbidden`, async () => {
      expect(errorCode(await run(operation, visitorToken))).toBe('auth/forbidden');
    });
  }
  for (const operation of visitorOperations) {
    it(`${operation.name} refuses an agent with auth/forbidden`, async () => {
      expect(errorCode(await run(operation, member.token))).toBe('auth/forbidden');
    });
  }
});

describe('forged tokens of every kind', () => {
  const representative: Operation[] = [
    conversationOperations.find((operation) => operation.name === 'conversation')!,
    conversationOperations.find((operation) => operation.name === 'sendMessage')!,
    visitorOperations.find((operation) => operation.name === 'visitorMessages')!,
    visitorOperations.find((operation) => operation.name === 'sendVisitorMessage')!,
  ];
  for (const prefix of PREFIXES) {
    it(`a forged ${prefix} token gets auth/unauthenticated on queries and mutations of both APIs, and changes nothing`, async () => {
      const before = await snapshot();
      for (const operation of representative) {
        const result = await run(operation, forged(prefix));
        expect({ operation: operation.name, code: errorCode(result) }).toEqual({ operation: operation.name, code: 'auth/unauthenticated' });
        expect(result.data ?? null).toBeNull();
      }
      expect(await snapshot()).toBe(before);
    });

    it(`a forged ${prefix} token cannot log anyone out`, async () => {
      const before = await snapshot();
      const result = await charla.graphql(`mutation { logout }`, {}, forged(prefix));
      expect(errorCode(result)).toBe('auth/unauthenticated');
      expect(await snapshot()).toBe(before);
      // The real session is untouched.
      expect(await charla.mutate(`{ me { id } }`, {}, member.token)).toEqual({ me: { id: ids.member } });
    });

    it(`a forged ${prefix} token is refused by every subscription with auth/unauthenticated`, async () => {
      for (const [query, variables] of [
        [`subscription($inboxId: ID) { conversationEvents(inboxId: $inboxId) { type } }`, { inboxId: ids.inbox }],
        [`subscription { notificationEvents { id } }`, {}],
        [`subscription { widgetEvents { type } }`, {}],
      ] as const) {
        const subscription = await charla.subscribe(query, variables, forged(prefix));
        const result = await subscription.waitFor((r) => (r.errors?.length ?? 0) > 0);
        expect({ query, code: result.errors?.[0]?.extensions?.code }).toEqual({ query, code: 'auth/unauthenticated' });
        expect(subscription.results.every((r) => r.data === undefined || r.data === null)).toBe(true);
        await subscription.close();
      }
    });
  }
});

describe("the widget's e-mail and survey inputs", () => {
  const inputs = [
    { name: 'submitEmail', query: `mutation($id: ID!) { submitEmail(messageId: $id, email: "intruso@example.test") { id } }`, message: () => ids.emailInput },
    { name: 'submitCsat', query: `mutation($id: ID!) { submitCsat(messageId: $id, rating: 1, feedback: "malo") { id } }`, message: () => ids.csatInput },
  ];
  for (const input of inputs) {
    it(`${input.name} refuses no token, a forged one and an agent's, and stores nothing`, async () => {
      const before = await snapshot();
      for (const [token, code] of [
        [undefined, 'auth/unauthenticated'],
        [forged('chv_'), 'auth/unauthenticated'],
        [member.token, 'auth/forbidden'],
        [otherAccountAdmin.token, 'auth/forbidden'],
      ] as const) {
        const result = await charla.graphql(input.query, { id: input.message() }, token);
        expect({ token, code: errorCode(result) }).toEqual({ token, code });
      }
      expect(await snapshot()).toBe(before);
    });
  }

  it('the visitor the inputs were asked of can answer them (so the refusals above are about the token)', async () => {
    await charla.mutate(inputs[0]!.query, { id: ids.emailInput }, visitorToken);
    await charla.mutate(inputs[1]!.query, { id: ids.csatInput }, visitorToken);
    expect((await Contact.findById(ids.contact).lean())?.email).toBe('intruso@example.test');
    expect(await CsatResponse.countDocuments({ messageId: ids.csatInput })).toBe(1);
  });
});

describe('contact(id)', () => {
  it('refuses no token and a forged one with auth/unauthenticated, a visitor with auth/forbidden, and shows nothing', async () => {
    const query = `query($id: ID!) { contact(id: $id) { id name email } }`;
    for (const [token, code] of [
      [undefined, 'auth/unauthenticated'],
      [forged('chs_'), 'auth/unauthenticated'],
      [forged('cha_'), 'auth/unauthenticated'],
      [visitorToken, 'auth/forbidden'],
      [otherVisitorToken, 'auth/forbidden'],
    ] as const) {
      const result = await charla.graphql(query, { id: ids.contact }, token);
      expect({ token, code: errorCode(result) }).toEqual({ token, code });
      expect(result.data ?? null).toBeNull();
    }
    // A member of the inbox does see the contact.
    expect((await charla.mutate(query, { id: ids.contact }, member.token)).contact.id).toBe(ids.contact);
  });
});

describe('a visitor of another conversation', () => {
  it('cannot answer, rate or read messages of a conversation that is not theirs', async () => {
    const before = await snapshot();
    for (const [query, id] of [
      [`mutation($id: ID!) { submitEmail(messageId: $id, email: "x@example.test") { id } }`, ids.emailInput],
      [`mutation($id: ID!) { submitCsat(messageId: $id, rating: 5) { id } }`, ids.csatInput],
    ]) {
      const result = await charla.graphql(query, { id }, otherVisitorToken);
      expect(errorCode(result)).toBe('auth/forbidden');
    }
    expect(await snapshot()).toBe(before);
    const theirs = await charla.mutate(`{ visitorMessages { edges { node { content } } } }`, {}, otherVisitorToken);
    expect(JSON.stringify(theirs)).not.toContain('Hola, soy Ana');
  });
});

describe('subscriptions', () => {
  it('conversationEvents refuses anonymous, visitors and agents outside the inbox', async () => {
    const query = `subscription($inboxId: ID) { conversationEvents(inboxId: $inboxId) { type } }`;
    for (const [token, code] of [
      [undefined, 'auth/unauthenticated'],
      ['chs_forged', 'auth/unauthenticated'],
      [visitorToken, 'auth/forbidden'],
      [outsider.token, 'auth/forbidden'],
      [otherAccountAdmin.token, 'auth/forbidden'],
    ] as const) {
      const subscription = await charla.subscribe(query, { inboxId: ids.inbox }, token);
      const result = await subscription.waitFor((r) => (r.errors?.length ?? 0) > 0);
      expect(result.errors?.[0]?.extensions?.code).toBe(code);
      await subscription.close();
    }
  });

  it('notificationEvents and widgetEvents refuse the wrong kind of token', async () => {
    for (const [query, token, code] of [
      [`subscription { notificationEvents { id } }`, undefined, 'auth/unauthenticated'],
      [`subscription { notificationEvents { id } }`, visitorToken, 'auth/forbidden'],
      [`subscription { widgetEvents { type } }`, undefined, 'auth/unauthenticated'],
      [`subscription { widgetEvents { type } }`, member.token, 'auth/forbidden'],
    ] as const) {
      const subscription = await charla.subscribe(query, {}, token);
      const result = await subscription.waitFor((r) => (r.errors?.length ?? 0) > 0);
      expect(result.errors?.[0]?.extensions?.code).toBe(code);
      await subscription.close();
    }
  });

  it("an agent subscribed to all inboxes receives nothing from an inbox that is not theirs", async () => {
    const outsiderEvents = await charla.subscribe(`subscription { conversationEvents { type message { content } } }`, {}, outsider.token);
    const memberEvents = await charla.subscribe(`subscription { conversationEvents { type message { content } } }`, {}, member.token);
    await charla.mutate(
      `mutation($id: ID!) { sendMessage(input: { conversationId: $id, content: "solo para miembros" }) { id } }`,
      { id: ids.conversation },
      member.token,
    );
    await memberEvents.waitFor((r) => r.data?.conversationEvents.message?.content === 'solo para miembros');
    // Events reach one socket in order: once the outsider has their own later message, anything
    // leaked from the other inbox would already be there.
    await charla.mutate(
      `mutation($id: ID!) { sendMessage(input: { conversationId: $id, content: "mi bandeja" }) { id } }`,
      { id: ids.outsiderConversation },
      outsider.token,
    );
    await outsiderEvents.waitFor((r) => r.data?.conversationEvents.message?.content === 'mi bandeja');
    expect(JSON.stringify(outsiderEvents.results)).not.toContain('solo para miembros');
    await Promise.all([outsiderEvents.close(), memberEvents.close()]);
  });
});

// Who may do what, generated from the schema. Every root query, mutation and subscription is built
// from introspection with its ID arguments pointing at one victim's records (a conversation, its
// inbox, contact, messages, team, rule set, campaign, webhook, agent… of account A) and sent by
// callers who must not reach them: no token, forged tokens, a logged-out, an expired and a revoked
// token, a visitor of another conversation, an agent outside the inbox, an agent and an
// administrator of another account. Each attempt must be refused — auth/unauthenticated without a
// valid token, else auth/forbidden or <area>/not_found — with nothing of the victim's account
// changed, unless OPEN lists that field for that caller with its reason. A new field is therefore
// tried (and fails, naming itself, until it is refused or listed) without touching this file. The
// owners then run every operation to show the refusals were about the caller, not the arguments.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import mongoose, { type Types } from 'mongoose';
import { AccessToken } from '../../../server/src/db/models/access-token.ts';
import { newToken } from '../../../server/src/auth/tokens.ts';
import { startTestCharla, stopAllTestCharlas, type GraphQLResult, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { ALL_RESOURCES, buildAccountRecords, createOperationBuilder, type Operation, type Resource } from '../../support/schema-operations.ts';
import { securityTally } from '../../support/security-tally.ts';

const tally = securityTally('authorization matrix');

type CallerName =
  | 'anonymous' | 'forged session' | 'forged API token' | 'forged visitor token' | 'logged-out session' | 'expired session'
  | 'revoked API token' | 'visitor of another conversation' | 'agent outside the inbox' | 'agent of another account'
  | 'administrator of another account';

interface Caller {
  name: CallerName;
  token?: string;
  /** A valid token: refusals are auth/forbidden or not_found rather than auth/unauthenticated. */
  signedIn: boolean;
  /** A caller of account A may legitimately change their own records there. */
  inVictimAccount: boolean;
  /** Records whose ids must never appear in what this caller is answered. */
  mustNotSee: Resource[];
}

const CONVERSATION_RECORDS: Resource[] = ['conversation', 'message', 'emailInput', 'csatInput', 'agentAttachment', 'visitorAttachment', 'notification', 'accessToken'];
const SIGNED_OUT: CallerName[] = ['anonymous', 'forged session', 'forged API token', 'forged visitor token', 'logged-out session', 'expired session', 'revoked API token'];
const ANY_CALLER: CallerName[] = [...SIGNED_OUT, 'visitor of another conversation', 'agent outside the inbox', 'agent of another account', 'administrator of another account'];
const AGENTS: CallerName[] = ['agent outside the inbox', 'agent of another account', 'administrator of another account'];
const OTHER_ACCOUNT: CallerName[] = ['agent of another account', 'administrator of another account'];

/**
 * What is open to whom, and why. Everything else must be refused. An allowed answer is still
 * checked: it must not show the victim's records, and a caller of another account must not have
 * changed anything of the victim's account.
 */
const OPEN: Array<[field: string, callers: CallerName[], reason: string, changesVictimRecords?: 'changes the victim\'s records']> = [
  ['health', ANY_CALLER, 'a load balancer checks it without a token'],
  ['login', ANY_CALLER, 'signing in is how a token is obtained'],
  ['widgetSession', ANY_CALLER, "a website token is public in the host page; it opens the caller's own visitor session"],
  ['_noop', ANY_CALLER, 'does nothing'],
  ['_keepAlive', ANY_CALLER, 'never emits'],
  // Account-wide reads every agent of the account has (README "Who sees what").
  ['agents', AGENTS, "the caller's own account's agents"],
  ['teams', AGENTS, "the caller's own account's teams"],
  ['labels', AGENTS, "the caller's own account's labels"],
  ['cannedResponses', AGENTS, "the caller's own account's canned responses"],
  ['contacts', AGENTS, "the caller's own account's contacts (agents see all contacts of their account)"],
  ['contact', ['agent outside the inbox'], 'contacts are account-wide for agents'],
  ['updateContact', ['agent outside the inbox'], 'contacts are account-wide for agents', "changes the victim's records"],
  ['addContactLabels', ['agent outside the inbox'], 'contacts are account-wide for agents', "changes the victim's records"],
  ['removeContactLabels', ['agent outside the inbox'], 'contacts are account-wide for agents', "changes the victim's records"],
  ['inboxes', AGENTS, 'the inboxes the caller works in'],
  ['conversations', AGENTS, "the caller's own inboxes' conversations; the inbox filter only narrows them"],
  ['conversationByDisplayId', OTHER_ACCOUNT, "numbers are per account: looks in the caller's own account"],
  // The caller's own things.
  ['me', AGENTS, 'the caller'],
  ['accessTokens', AGENTS, "the caller's own tokens"],
  ['createAccessToken', AGENTS, 'a token for the caller'],
  ['logout', AGENTS, "ends the caller's own session"],
  ['revokeAccessToken', AGENTS, "revokes only the caller's own tokens; anyone else's id answers false (documented)"],
  ['setAvailability', AGENTS, "the caller's own availability"],
  ['setEmailNotifications', AGENTS, "the caller's own e-mail settings"],
  ['notifications', AGENTS, "the caller's own notifications"],
  ['markNotificationsRead', AGENTS, "marks the caller's own notifications; anyone else's ids are skipped"],
  ['unreadNotificationCount', AGENTS, "the caller's own notifications"],
  ['notificationEvents', AGENTS, "the caller's own notifications"],
  // Administrators of another account create in their own account.
  ['createInbox', ['administrator of another account'], "creates in the caller's own account"],
  ['createAgent', ['administrator of another account'], "creates in the caller's own account"],
  ['createLabel', ['administrator of another account'], "creates in the caller's own account"],
  ['createCannedResponse', ['administrator of another account'], "creates in the caller's own account"],
  ['createWebhook', ['administrator of another account'], "creates in the caller's own account"],
  ['webhooks', ['administrator of another account'], "the caller's own account's webhooks"],
  ['campaigns', ['administrator of another account'], "the caller's own account's campaigns; the inbox filter only narrows them"],
  ['ruleSets', ['administrator of another account'], "the caller's own account's rule sets"],
  ['rulePresets', ['administrator of another account'], 'the built-in presets, the same for every account'],
  ['ruleVocabulary', ['administrator of another account'], 'the rules vocabulary, the same for every account'],
  // A visitor's own conversation in the same inbox.
  ['visitorMessages', ['visitor of another conversation'], "pages the caller's own conversation; the cursor only bounds it"],
  ['visitorConversation', ['visitor of another conversation'], "the caller's own conversation"],
  ['startNewConversation', ['visitor of another conversation'], "the caller's own conversation"],
  ['submitPreChatForm', ['visitor of another conversation'], "the caller's own contact"],
  ['requestTranscript', ['visitor of another conversation'], "the caller's own conversation"],
  ['visitorTyping', ['visitor of another conversation'], "the caller's own conversation"],
  ['setVisitorCustomAttributes', ['visitor of another conversation'], "the caller's own contact"],
  ['deleteVisitorCustomAttribute', ['visitor of another conversation'], "the caller's own contact"],
  ['addVisitorLabel', ['visitor of another conversation'], "the caller's own conversation"],
  ['removeVisitorLabel', ['visitor of another conversation'], "the caller's own conversation"],
  ['pageViewed', ['visitor of another conversation'], 'campaigns of the inbox the visitor is in'],
  ['dismissCampaigns', ['visitor of another conversation'], "the caller's own campaign state"],
  ['widgetEvents', ['visitor of another conversation'], "the caller's own conversation's events"],
];

function openRow(field: string, caller: CallerName) {
  return OPEN.find(([name, callers]) => name === field && callers.includes(caller));
}

let charla: TestCharla;
let victimAccountId: Types.ObjectId;
let victimAdmin: BuiltAgent;
let member: BuiltAgent;
let outsider: BuiltAgent;
let visitorToken: string;
let victim: Record<Resource, string>;
const callers: Caller[] = [];
let outsiderConversationId: string;
let allOperations: () => Operation[];

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  victimAccountId = account._id;
  const records = await buildAccountRecords(charla, account._id);
  ({ admin: victimAdmin, member, visitorToken, ids: victim } = records);
  outsider = await buildAgent(account._id);
  const outsiderInbox = await buildInbox(account._id, { memberIds: [outsider.user._id] });
  outsiderConversationId = String((await buildConversation(await buildContact(outsiderInbox)))._id);
  // Another visitor of the victim's inbox.
  const otherVisitor = await buildContact({ _id: new mongoose.Types.ObjectId(victim.inbox), accountId: account._id });
  await buildConversation(otherVisitor);

  // Tokens of account A that no longer work.
  const loggedOut = newToken('session');
  await AccessToken.create({ tokenHash: loggedOut.hash, kind: 'session', accountId: account._id, userId: member.user._id });
  await charla.mutate(`mutation { logout }`, {}, loggedOut.token);
  const expired = newToken('session');
  await AccessToken.create({ tokenHash: expired.hash, kind: 'session', accountId: account._id, userId: member.user._id, expiresAt: new Date(Date.now() - 60_000) });
  const revoked = (await charla.mutate(`mutation { createAccessToken(name: "old") { token } }`, {}, member.token)).createAccessToken.token;
  const revokedId = (await charla.mutate(`{ accessTokens { id name } }`, {}, member.token)).accessTokens.find((t: { name: string }) => t.name === 'old').id;
  await charla.mutate(`mutation($id: ID!) { revokeAccessToken(id: $id) }`, { id: revokedId }, member.token);

  const otherAccount = await buildAccount();
  const otherAgent = await buildAgent(otherAccount._id);
  const otherAdmin = await buildAgent(otherAccount._id, { role: 'administrator' });
  await buildInbox(otherAccount._id, { memberIds: [otherAgent.user._id] });

  const signedOut = (name: CallerName, token?: string): Caller => ({ name, token, signedIn: false, inVictimAccount: false, mustNotSee: ALL_RESOURCES });
  callers.push(
    signedOut('anonymous'),
    signedOut('forged session', newToken('session').token),
    signedOut('forged API token', newToken('api').token),
    signedOut('forged visitor token', newToken('visitor').token),
    signedOut('logged-out session', loggedOut.token),
    signedOut('expired session', expired.token),
    signedOut('revoked API token', revoked),
    { name: 'visitor of another conversation', token: otherVisitor.visitorToken, signedIn: true, inVictimAccount: true, mustNotSee: [...CONVERSATION_RECORDS, 'contact', 'team', 'cannedResponse', 'ruleSet', 'webhook'] },
    { name: 'agent outside the inbox', token: outsider.token, signedIn: true, inVictimAccount: true, mustNotSee: [...CONVERSATION_RECORDS, 'inbox', 'campaign', 'ruleSet', 'webhook'] },
    { name: 'agent of another account', token: otherAgent.token, signedIn: true, inVictimAccount: false, mustNotSee: ALL_RESOURCES },
    { name: 'administrator of another account', token: otherAdmin.token, signedIn: true, inVictimAccount: false, mustNotSee: ALL_RESOURCES },
  );
  const schema = (await charla.mutate<IntrospectionQuery>(getIntrospectionQuery(), {}, victimAdmin.token)).__schema;
  const builder = createOperationBuilder(schema, records);
  allOperations = () => builder.all();
});

afterAll(stopAllTestCharlas);

// ---- Running and judging ---------------------------------------------------------------------

const errorCode = (result: GraphQLResult): string | undefined => result.errors?.[0]?.extensions?.code;

async function run(operation: Operation, token: string | undefined): Promise<GraphQLResult> {
  if (operation.kind !== 'subscription') return charla.graphql(operation.query, operation.variables, token);
  const subscription = await charla.subscribe(operation.query, operation.variables, token);
  // A refusal arrives at once; an accepted subscription stays silent until something happens.
  const result = await subscription.waitFor((r) => r.errors !== undefined || r.data !== undefined, 1_000).catch(() => ({ data: { [operation.field]: 'subscribed' } }));
  await subscription.close();
  return result;
}

/** An error nobody raised on purpose: masked over HTTP, a 4500 close over graphql-ws. */
const isInternalError = (result: GraphQLResult): boolean =>
  (result.errors ?? []).some((error) => error.extensions?.code === 'INTERNAL_SERVER_ERROR' || /WebSocket closed: 4500/.test(error.message));

function isDenial(result: GraphQLResult, caller: Pick<Caller, 'signedIn'>, field: string): boolean {
  const code = errorCode(result);
  const refused = caller.signedIn ? code === 'auth/forbidden' || /^[a-z_]+\/not_found$/.test(code ?? '') : code === 'auth/unauthenticated';
  return refused && (result.data?.[field] ?? null) === null;
}

/**
 * Also a refusal: a record the caller may not use, named among others, is refused as bad input
 * on that argument ("attachmentIds: … not yours", "memberIds: must list agents of this account",
 * a rule set naming another account's inbox). The owners' run shows the same values pass for them.
 */
function isRefusedReference(result: GraphQLResult, operation: Operation, field: string): boolean {
  const error = result.errors?.[0];
  if ((result.data?.[field] ?? null) !== null || !error) return false;
  const details = error.extensions?.details as { field?: string } | undefined;
  if (error.extensions?.code === 'input/invalid') return details?.field !== undefined && operation.idPaths.includes(details.field);
  return error.extensions?.code === 'rules/invalid' && / of this account/.test(error.message);
}

const VOLATILE = new Set(['updatedAt', 'lastUsedAt']);

interface VictimState {
  /** Every document of the victim's account. */
  account: string;
  /** The victim's records themselves, and the messages of their conversation. */
  records: string;
}

/** Hashes of the victim's documents (bar timestamps that move on every read). */
async function victimState(): Promise<VictimState> {
  await charla.services.bus.idle();
  const db = mongoose.connection.db!;
  const names = (await db.listCollections().toArray()).map((c) => c.name).filter((name) => name !== 'agendaJobs' && name !== 'system_info').sort();
  const ids = Object.values(victim).filter((id) => /^[0-9a-f]{24}$/.test(id)).map((id) => new mongoose.Types.ObjectId(id));
  const account = createHash('sha256');
  const records = createHash('sha256');
  const text = (documents: unknown[]): string => JSON.stringify(documents, (key, value) => (VOLATILE.has(key) ? undefined : value));
  for (const name of names) {
    // An expired session may be removed by its TTL index at any moment; that is no one's doing.
    const filter = name === 'accessTokens' ? { accountId: victimAccountId, $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date() } }] } : { accountId: victimAccountId };
    const documents = await db.collection(name).find(filter).sort({ _id: 1 }).toArray();
    account.update(name).update(text(documents));
    const own = documents.filter((document) => ids.some((id) => id.equals(document._id as Types.ObjectId)) || String(document.conversationId) === victim.conversation);
    records.update(name).update(text(own));
  }
  return { account: account.digest('hex'), records: records.digest('hex') };
}

function leaked(result: GraphQLResult, caller: Caller): Resource[] {
  const answered = JSON.stringify(result.data ?? null);
  return caller.mustNotSee.filter((resource) => answered.includes(victim[resource]));
}

describe('what the matrix cannot see', () => {
  it('lists show nothing of inboxes the agent is not a member of', async () => {
    const data = await charla.mutate(`{ conversations(filter: { status: ALL }) { edges { node { id } } counts { all } } }`, {}, outsider.token);
    expect(data.conversations.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual([outsiderConversationId]);
    expect(data.conversations.counts.all).toBe(1);
  });

  it('an agent subscribed to all inboxes receives nothing from an inbox that is not theirs', async () => {
    const outsiderEvents = await charla.subscribe(`subscription { conversationEvents { type message { content } } }`, {}, outsider.token);
    const memberEvents = await charla.subscribe(`subscription { conversationEvents { type message { content } } }`, {}, member.token);
    const send = (id: string, content: string, token: string) =>
      charla.mutate(`mutation($id: ID!, $content: String!) { sendMessage(input: { conversationId: $id, content: $content }) { id } }`, { id, content }, token);
    await send(victim.conversation, 'solo para miembros', member.token);
    await memberEvents.waitFor((r) => r.data?.conversationEvents.message?.content === 'solo para miembros');
    // Events reach one socket in order: once the outsider has their own later message, anything
    // leaked from the other inbox would already be there.
    await send(outsiderConversationId, 'mi bandeja', outsider.token);
    await outsiderEvents.waitFor((r) => r.data?.conversationEvents.message?.content === 'mi bandeja');
    expect(JSON.stringify(outsiderEvents.results)).not.toContain('solo para miembros');
    await Promise.all([outsiderEvents.close(), memberEvents.close()]);
  });
});

describe('the authorisation matrix, generated from the schema', () => {
  it('maps every ID argument of every root field to a victim record', () => {
    const operations = allOperations();
    expect(operations.length).toBeGreaterThan(80);
    expect(operations.flatMap((operation) => operation.unmapped)).toEqual([]);
    for (const name of ['conversation', 'sendMessage', 'saveRuleSet', 'conversationEvents', 'submitCsat']) expect(operations.map((o) => o.field)).toContain(name);
  });

  it('lists only real fields as open, each with a reason', () => {
    const fields = new Set(allOperations().map((operation) => operation.field));
    expect(OPEN.filter(([field, callers, reason]) => !fields.has(field) || callers.length === 0 || reason === '').map(([field]) => field)).toEqual([]);
  });

  // The callers are known only once beforeAll has run; their names are fixed here.
  for (const callerName of ANY_CALLER) {
    const who = callerName === 'anonymous' ? 'a caller without a token' : `${/^[aeiou]/.test(callerName) ? 'an' : 'a'} ${callerName}`;
    it(`refuses every operation to ${who}, and changes nothing of the victim's`, async () => {
      const caller = callers.find((c) => c.name === callerName)!;
      const failures: string[] = [];
      const stale: string[] = [];
      let before = await victimState();
      for (const operation of allOperations()) {
        const result = await run(operation, caller.token);
        const row = openRow(operation.field, caller.name);
        const reason = row?.[2];
        const denied = isDenial(result, caller, operation.field) || (caller.signedIn && isRefusedReference(result, operation, operation.field));
        const leaks = leaked(result, caller);
        if (leaks.length > 0) failures.push(`${operation.field} showed the victim's ${leaks.join(', ')}`);
        if (isInternalError(result)) failures.push(`${operation.field} failed with an internal error: ${JSON.stringify(result).slice(0, 200)}`);
        if (reason) {
          tally.record(leaks.length > 0 ? 'failure' : 'allowed');
          if (isDenial(result, caller, operation.field)) stale.push(`${operation.field} is refused (${errorCode(result)}) but listed as open: ${reason}`);
        } else if (!tally.expectDenied(denied && leaks.length === 0)) {
          failures.push(`${operation.field}: ${JSON.stringify(result).slice(0, 240)}`);
        }
        if (operation.kind === 'query') continue;
        const after = await victimState();
        // An allowed operation may change the caller's own records (in account A for some callers,
        // and a new visitor for widgetSession), never the victim's unless listed so.
        const mayChangeAccount = row !== undefined && (caller.inVictimAccount || operation.field === 'widgetSession');
        if (after.account !== before.account && !mayChangeAccount) failures.push(`${operation.field} changed the victim's account`);
        if (after.records !== before.records && row?.[3] === undefined) failures.push(`${operation.field} changed the victim's records`);
        before = after;
      }
      expect(failures).toEqual([]);
      expect(stale).toEqual([]);
    }, 120_000);
  }

  it("lets the victim's own people run every operation, so the refusals are about the caller", async () => {
    const owners = [
      { token: victimAdmin.token, signedIn: true },
      { token: member.token, signedIn: true },
      { token: visitorToken, signedIn: true },
    ];
    const operations = allOperations();
    const refusedToOwners: string[] = [];
    for (const operation of operations) {
      const answers: string[] = [];
      let accepted = false;
      for (const owner of owners) {
        const result = await run(operation, owner.token);
        if (isInternalError(result)) answers.push(`internal error ${JSON.stringify(result).slice(0, 160)}`);
        if (!isDenial(result, owner, operation.field) && errorCode(result) !== 'auth/unauthenticated' && !isInternalError(result)) {
          accepted = true;
          break;
        }
        answers.push(errorCode(result) ?? 'no code');
      }
      if (!accepted) refusedToOwners.push(`${operation.field}: ${answers.join(', ')}`);
    }
    expect(refusedToOwners).toEqual([]);
  });
});

import mongoose from 'mongoose';
import { PRESETS } from '@charla/rules';
import { startTestCharla, stopAllTestCharlas } from '../support/charla.ts';

const charla = await startTestCharla({}, { VISITOR_MESSAGE_BURST: '100000', VISITOR_MESSAGES_PER_MINUTE: '1000000' });
const admin = (await charla.mutate('mutation { login(email: "admin@charla.local", password: "admin-password") { token } }')).login.token;
const allDay = Array.from({ length: 7 }, () => ({ closed: false, openMinute: 0, closeMinute: 24 * 60 }));
const settings = { greeting: { enabled: true, text: 'Hi!' }, emailCollect: true, autoAssignment: { enabled: true }, csat: { enabled: true },
  workingHours: { enabled: true, timezone: 'UTC', outOfOfficeMessage: 'away', days: allDay }, botEnabled: true };
const { createInbox } = await charla.mutate('mutation($input: CreateInboxInput!) { createInbox(input: $input) { id websiteToken } }', { input: { name: 'S', channelType: 'WEB_WIDGET', settings } }, admin);
const agentIds: string[] = []; const agentTokens: string[] = [];
const AGENTS = Number(process.env.AGENTS ?? 10);
for (let n = 0; n < AGENTS; n++) {
  const { createAgent } = await charla.mutate('mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }', { input: { name: `A${n}`, email: `a${n}@b.example`, password: 'agent-password-1' } }, admin);
  agentIds.push(createAgent.id);
}
await charla.mutate('mutation($inboxId: ID!, $agentIds: [ID!]!) { setInboxMembers(inboxId: $inboxId, agentIds: $agentIds) { id } }', { inboxId: createInbox.id, agentIds }, admin);
await charla.mutate('mutation($json: JSON!) { saveRuleSet(json: $json) { id } }', { json: { ...PRESETS['faq-bot'], inboxes: [createInbox.id] } }, admin);
for (let n = 0; n < AGENTS; n++) agentTokens.push((await charla.mutate(`mutation { login(email: "a${n}@b.example", password: "agent-password-1") { token } }`)).login.token);
const subs = [];
for (const t of agentTokens) subs.push(await charla.subscribe(`subscription($inboxId: ID) { conversationEvents(inboxId: $inboxId) { type conversation { id status assignee { id name } } message { id messageType content private createdAt sender { type name } } } }`, { inboxId: createInbox.id }, t));
const VISITORS = 10;
const visitors: string[] = [];
for (let v = 0; v < VISITORS; v++) {
  const s = await charla.mutate('mutation($w: String!) { widgetSession(websiteToken: $w) { visitorToken } }', { w: createInbox.websiteToken });
  visitors.push(s.widgetSession.visitorToken);
  subs.push(await charla.subscribe('subscription { widgetEvents { type message { id messageType content createdAt sender { type name } } } }', {}, s.widgetSession.visitorToken));
}
// warm-up: first messages of each conversation (greeting, email capture...)
const ws = await import('graphql-ws');
const WebSocket = (await import('ws')).default;
const clients = visitors.map((token) => ws.createClient({ url: charla.url.replace('http', 'ws') + '/graphql', webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, lazy: false }));
const send = (c: any, content: string) => new Promise((res, rej) => { let r: any; c.subscribe({ query: 'mutation($c: String!) { sendVisitorMessage(content: $c) { id } }', variables: { c: content } }, { next: (x: any) => (r = x), error: rej, complete: () => res(r) }); });
for (let i = 0; i < 3; i++) for (const c of clients) await send(c, `hola pedido ${i}`);
await charla.services.bus.idle();
await new Promise((r) => setTimeout(r, 500));
const counts = new Map<string, number>();
const where = new Map<string, number>();
mongoose.set('debug', (coll: string, method: string) => { const k = `${coll}.${method}`; counts.set(k, (counts.get(k) ?? 0) + 1);
  if (process.env.WHERE && (!process.env.ONLY || k === process.env.ONLY)) { if (process.env.ONLY) console.log(new Error().stack); const frames = (new Error().stack ?? '').split('\n').filter((l) => l.includes('/server/src/') || l.includes('/rules/src/')).slice(0, 3).map((l) => l.trim().replace(/^at /, '').replace(/\(.*\/(server|rules)\/src\//, '(').replace(/:\d+\)$/, ')')).join(' < ');
    const w = `${k} @ ${frames}`; where.set(w, (where.get(w) ?? 0) + 1); } });
const N = Number(process.env.N ?? 200);
const cpu0 = process.cpuUsage(); const t0 = performance.now();
const inflight = [];
for (let i = 0; i < N; i++) { inflight.push(send(clients[i % VISITORS]!, `v${i} hola gracias pedido cuenta factura tarjeta pago cambio talla color problema`)); if (inflight.length >= 20) await inflight.shift(); }
await Promise.all(inflight);
await charla.services.bus.idle();
await new Promise((r) => setTimeout(r, 300));
const cpu = process.cpuUsage(cpu0); const elapsed = performance.now() - t0;
mongoose.set('debug', false);
console.log(`messages ${N}, wall ${elapsed.toFixed(0)} ms, ${(N / elapsed * 1000).toFixed(0)} msg/s, cpu ${( (cpu.user + cpu.system) / 1000 / N).toFixed(2)} ms/msg (in-process incl. DB)`);
const total = [...counts.values()].reduce((a, b) => a + b, 0);
console.log(`db ops per message: ${(total / N).toFixed(2)}`);
for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`${(v / N).toFixed(2)}  ${k}`);
for (const [k, v] of [...where].sort((a, b) => b[1] - a[1])) console.log(`${(v / N).toFixed(2)}  ${k}`);
for (const c of clients) await c.dispose();
for (const s of subs) await s.close();
await stopAllTestCharlas();
process.exit(0);

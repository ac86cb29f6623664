// The benchmark's workload, generated from a fixed seed: rule-set documents for one inbox and
// sample events with the fact values the server would compute for them.
import { FACT_NAMES, isFactAvailable, type FactName, type FactValues, type RuleEvent } from '../src/vocabulary.ts';

export const INBOX_ID = '665f1c2e9b1d4a0012345678';
const CHANNEL_TYPE = 'web_widget';

/** xorshift32: a small seeded generator, so every run sees the same rules and events. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  /** In [0, 1). */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.state = x;
    return x / 2 ** 32;
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** `count` different items. */
  sample<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    while (out.length < count && pool.length > 0) out.push(pool.splice(this.int(pool.length), 1)[0]!);
    return out;
  }
  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
    let roll = this.next() * choices.reduce((sum, [, weight]) => sum + weight, 0);
    for (const [value, weight] of choices) if ((roll -= weight) < 0) return value;
    return choices[choices.length - 1]![0];
  }
}

// Words customers write, in English and Spanish (with accents, as people type them).
const TOPIC_WORDS = [
  'refund', 'invoice', 'billing', 'cancel', 'password', 'login', 'shipping', 'delivery', 'broken', 'error',
  'pricing', 'upgrade', 'discount', 'agent', 'human', 'urgent', 'account', 'order', 'tracking', 'return',
  'warranty', 'subscription', 'charge', 'coupon', 'crash', 'slow', 'export', 'integration', 'api', 'invoice',
  'factura', 'reembolso', 'envío', 'contraseña', 'cancelar', 'precio', 'ayuda', 'pedido', 'devolución', 'garantía',
  'cuenta', 'error', 'urgente', 'descuento', 'suscripción', 'cobro', 'entrega', 'atención', 'queja', 'demo',
] as const;
const PHRASES = ['talk to someone', 'hablar con alguien', 'not working', 'no funciona', 'money back', 'speak to a human', 'credit card', 'tarjeta de crédito'] as const;
const FILLER = [
  'i', 'my', 'the', 'is', 'not', 'can', 'you', 'please', 'hi', 'hello', 'thanks', 'when', 'why', 'how', 'to', 'a', 'it', 'was',
  'we', 'our', 'this', 'that', 'yesterday', 'today', 'again', 'still', 'need', 'want', 'help', 'with', 'for', 'on', 'and', 'but',
  'hola', 'gracias', 'por', 'favor', 'mi', 'el', 'la', 'no', 'puedo', 'quiero', 'necesito', 'con', 'de', 'que', 'está', 'hoy',
  'talk', 'to', 'someone', 'working', 'money', 'back', 'credit', 'card',
] as const;
const SUBSTRINGS = ['order #', 'http', '@', 'invoice', 'refund', 'asap', '!!', 'promo', 'wrong', 'pago'] as const;
const LABELS = ['vip', 'billing', 'bug', 'sales', 'churn-risk', 'spanish', 'enterprise', 'refund', 'onboarding', 'feedback', 'shipping', 'partner'] as const;
const STATUSES = ['open', 'pending', 'snoozed', 'resolved'] as const;
const PRIORITIES = ['none', 'low', 'medium', 'high', 'urgent'] as const;
const PLANS = ['free', 'starter', 'pro', 'business', 'enterprise'] as const;
const COUNTRIES = ['ES', 'MX', 'AR', 'US', 'GB', 'DE', 'FR', 'CO', 'CL', 'PE'] as const;
const CHANGES = ['status', 'assignee', 'team', 'labels', 'priority', 'muted', 'snoozedUntil'] as const;
const CHANNELS = ['web_widget', 'email', 'api', 'telegram'] as const;
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** How often each event happens, for rules and for the sample events alike: most are new messages. */
const EVENT_WEIGHTS: ReadonlyArray<readonly [RuleEvent, number]> = [
  ['message.created', 55],
  ['conversation.updated', 15],
  ['conversation.created', 10],
  ['conversation.status_changed', 10],
  ['contact.updated', 10],
];

type Leaf = { fact: FactName; operator: string; value: unknown; path?: string };
type Group = { all: Array<Leaf | Group> } | { any: Array<Leaf | Group> } | { not: Leaf | Group };

/** A keyword condition on the message text: whole words (most) or a substring. */
function messageLeaf(random: Random): Leaf {
  if (random.chance(0.2)) return { fact: 'message.content', operator: 'contains', value: random.pick(SUBSTRINGS) };
  const words: string[] = [...random.sample(TOPIC_WORDS, 1 + random.int(3)), ...(random.chance(0.25) ? [random.pick(PHRASES)] : [])];
  return { fact: 'message.content', operator: 'hasWord', value: words.length === 1 && random.chance(0.5) ? words[0] : words };
}

/** One condition a rule author would plausibly write about `event`. */
function leafFor(random: Random, event: RuleEvent): Leaf {
  const kinds: Array<readonly [string, number]> = [
    ['status', 3],
    ['labels', 3],
    ['priority', 2],
    ['attribute', 4],
    ['channel', 1],
    ['hour', 2],
    ['weekday', 1],
  ];
  if (event === 'message.created') kinds.push(['words', 4], ['messageType', 3]);
  if (event === 'conversation.status_changed') kinds.push(['previousStatus', 3]);
  if (event === 'conversation.updated') kinds.push(['changes', 4]);
  switch (random.weighted(kinds)) {
    case 'words':
      return messageLeaf(random);
    case 'messageType':
      return { fact: 'message.type', operator: 'equal', value: random.weighted([['incoming', 8], ['outgoing', 2]]) };
    case 'status':
      return random.chance(0.6)
        ? { fact: 'conversation.status', operator: 'equal', value: random.pick(STATUSES) }
        : { fact: 'conversation.status', operator: random.chance(0.8) ? 'in' : 'notIn', value: random.sample(STATUSES, 2) };
    case 'previousStatus':
      return { fact: 'conversation.previousStatus', operator: 'equal', value: random.pick(STATUSES) };
    case 'labels':
      return { fact: 'conversation.labels', operator: random.chance(0.8) ? 'contains' : 'notContains', value: random.pick(LABELS) };
    case 'priority':
      return random.chance(0.5)
        ? { fact: 'conversation.priority', operator: 'in', value: random.sample(PRIORITIES, 2) }
        : { fact: 'conversation.priority', operator: 'equal', value: random.pick(PRIORITIES) };
    case 'changes':
      return { fact: 'conversation.changes', operator: 'contains', value: random.pick(CHANGES) };
    case 'channel':
      return random.chance(0.7)
        ? { fact: 'inbox.channelType', operator: 'equal', value: random.pick(CHANNELS) }
        : { fact: 'inbox.channelType', operator: 'in', value: random.sample(CHANNELS, 2) };
    case 'hour':
      return random.chance(0.5)
        ? { fact: 'time.hour', operator: 'greaterThanInclusive', value: 6 + random.int(12) }
        : { fact: 'time.hour', operator: 'lessThan', value: 8 + random.int(14) };
    case 'weekday':
      return { fact: 'time.weekday', operator: 'in', value: random.sample(WEEKDAYS, 2 + random.int(3)) };
    default: {
      const attribute = random.weighted([['plan', 4], ['seats', 2], ['country', 3], ['trial', 1]]);
      const path = `$.${attribute}`;
      const fact = 'contact.customAttributes';
      if (attribute === 'plan') return random.chance(0.6) ? { fact, path, operator: 'equal', value: random.pick(PLANS) } : { fact, path, operator: 'in', value: random.sample(PLANS, 2) };
      if (attribute === 'seats') return { fact, path, operator: random.chance(0.5) ? 'greaterThan' : 'lessThanInclusive', value: random.pick([5, 10, 25, 50, 100]) };
      if (attribute === 'country') return { fact, path, operator: 'in', value: random.sample(COUNTRIES, 1 + random.int(3)) };
      return { fact, path, operator: 'equal', value: random.chance(0.5) };
    }
  }
}

function conditionsFor(random: Random, event: RuleEvent): Group {
  const leaves: Array<Leaf | Group> = [];
  // Most message rules are keyword rules: they start with the message text.
  if (event === 'message.created' && random.chance(0.75)) leaves.push(messageLeaf(random));
  const extra = 1 + random.int(3);
  for (let index = 0; index < extra; index += 1) {
    const roll = random.next();
    if (roll < 0.15) leaves.push({ any: [leafFor(random, event), leafFor(random, event)] });
    else if (roll < 0.2) leaves.push({ not: leafFor(random, event) });
    else leaves.push(leafFor(random, event));
  }
  return { all: leaves };
}

const ACTION_CHOICES = [
  () => ({ type: 'add_label', params: { labels: ['triage'] } }),
  () => ({ type: 'assign_agent', params: { roundRobin: true } }),
  () => ({ type: 'send_message', params: { text: { en: 'Thanks, we are on it.', es: 'Gracias, nos ocupamos.' } } }),
  () => ({ type: 'change_status', params: { status: 'pending' } }),
] as const;

/**
 * `ruleCount` rules for one inbox, split into `setCount` rule-set documents (teams keep their own).
 * No rule stops processing, so the matched set does not depend on ordering.
 */
export function generateRuleSets(ruleCount: number, setCount: number, seed: number): Array<Record<string, unknown>> {
  const random = new Random(seed);
  const documents = Array.from({ length: setCount }, (_, set) => ({
    version: 1,
    name: `Team ${set + 1} automations`,
    description: 'generated for the rules benchmark',
    enabled: true,
    inboxes: [INBOX_ID],
    rules: [] as Array<Record<string, unknown>>,
  }));
  for (let index = 0; index < ruleCount; index += 1) {
    const on = random.weighted(EVENT_WEIGHTS);
    documents[index % setCount]!.rules.push({
      id: `rule-${String(index).padStart(4, '0')}`,
      name: `Generated rule ${index} (${on})`,
      on,
      priority: random.int(4) * 10,
      conditions: conditionsFor(random, on),
      actions: [random.pick(ACTION_CHOICES)()],
    });
  }
  return documents;
}

export interface SampleEvent {
  event: RuleEvent;
  facts: FactValues;
}

function messageText(random: Random): string {
  const length = 4 + random.int(30);
  const words: string[] = [];
  for (let index = 0; index < length; index += 1) {
    const roll = random.next();
    words.push(roll < 0.1 ? random.pick(TOPIC_WORDS) : roll < 0.12 ? random.pick(PHRASES) : random.pick(FILLER));
  }
  if (random.chance(0.1)) words.push(random.pick(['order #48213', 'https://shop.example/pricing', 'ana@example.test', 'asap!!', 'PROMO10']));
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1) + random.pick(['.', '?', '!', '']);
}

const hex = (random: Random): string => Array.from({ length: 24 }, () => '0123456789abcdef'[random.int(16)]).join('');

/** A value for each fact, as the server's fact builder would compute it for one event (facts added later stay absent). */
const FACT_VALUES: Partial<Record<FactName, (random: Random) => unknown>> = {
  'message.content': messageText,
  'message.type': (random) => random.weighted([['incoming', 7], ['outgoing', 2], ['activity', 1]]),
  'message.private': (random) => random.chance(0.05),
  'message.contentType': (random) => random.weighted([['text', 9], ['input_email', 1]]),
  'message.language': (random) => random.pick(['en', 'es', 'unknown']),
  'conversation.status': (random) => random.weighted([['open', 6], ['pending', 2], ['snoozed', 1], ['resolved', 1]]),
  'conversation.previousStatus': (random) => random.pick(STATUSES),
  'conversation.changes': (random) => random.sample(CHANGES, 1 + random.int(2)),
  'conversation.labels': (random) => random.sample(LABELS, random.int(4)),
  'conversation.assignee': (random) => (random.chance(0.6) ? hex(random) : null),
  'conversation.team': (random) => (random.chance(0.4) ? hex(random) : null),
  'conversation.inbox': () => INBOX_ID,
  'conversation.priority': (random) => random.weighted([['none', 5], ['low', 2], ['medium', 2], ['high', 1], ['urgent', 1]]),
  'conversation.muted': (random) => random.chance(0.02),
  'conversation.messageCount': (random) => random.int(40),
  'conversation.incomingCount': (random) => random.int(20),
  'conversation.hasAgentReply': (random) => random.chance(0.5),
  'conversation.minutesSinceAgentReply': (random) => (random.chance(0.5) ? random.int(600) : null),
  'conversation.isNew': (random) => random.chance(0.2),
  'conversation.emailRequested': (random) => random.chance(0.3),
  'conversation.campaign': (random) => (random.chance(0.1) ? hex(random) : null),
  'contact.email': (random) => (random.chance(0.6) ? `user${random.int(10_000)}@example.test` : null),
  'contact.name': (random) => random.pick(['Ana', 'Luis', 'Marta', 'John', 'Priya', 'Visitor 4821']),
  'contact.phone': (random) => (random.chance(0.3) ? `+34 600 ${100 + random.int(900)} ${100 + random.int(900)}` : null),
  'contact.blocked': (random) => random.chance(0.01),
  'contact.customAttributes': (random) => {
    const attributes: Record<string, unknown> = {};
    if (random.chance(0.8)) attributes.plan = random.weighted([['free', 4], ['starter', 3], ['pro', 2], ['business', 1], ['enterprise', 1]]);
    if (random.chance(0.5)) attributes.seats = 1 + random.int(150);
    if (random.chance(0.7)) attributes.country = random.pick(COUNTRIES);
    if (random.chance(0.3)) attributes.trial = random.chance(0.5);
    return attributes;
  },
  'inbox.channelType': () => CHANNEL_TYPE,
  'inbox.withinWorkingHours': (random) => random.chance(0.7),
  'visitor.pageUrl': (random) => `https://shop.example/${random.pick(['pricing', 'checkout', 'help/refunds', 'products/42', ''])}`,
  'visitor.referrer': (random) => random.pick(['https://www.google.com/', 'https://news.example/', '']),
  'visitor.timeOnPage': (random) => random.int(900),
  'visitor.locale': (random) => random.pick(['en', 'es']),
  'visitor.browserLanguage': (random) => random.pick(['en-US', 'es-ES', 'es-MX', 'de-DE']),
  'time.weekday': (random) => random.pick(WEEKDAYS),
  'time.hour': (random) => random.int(24),
};

export function generateEvents(count: number, seed: number): SampleEvent[] {
  const random = new Random(seed);
  return Array.from({ length: count }, () => {
    const event = random.weighted(EVENT_WEIGHTS);
    const facts: FactValues = {};
    for (const fact of FACT_NAMES) {
      const value = FACT_VALUES[fact];
      if (value && isFactAvailable(fact, event)) facts[fact] = value(random);
    }
    return { event, facts };
  });
}

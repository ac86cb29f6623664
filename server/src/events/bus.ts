// The event bus: commands publish, listeners and GraphQL subscriptions consume. The in-process
// implementation below is the default; the change-stream one (change-stream-bus.ts) carries events
// between nodes behind the same interface.
import type { Logger } from '../logger.ts';
import type { DomainEvent, EventMap, EventName } from './event-map.ts';

export type Listener<K extends EventName> = (payload: EventMap[K]) => void | Promise<void>;

export interface EventBus {
  publish<K extends EventName>(name: K, payload: EventMap[K]): void;
  /**
   * A listener that does work (writes records, sends, runs rules): it runs once per event across
   * all nodes — on the node that published, or on one worker when a web-only node published.
   */
  on<K extends EventName>(name: K, listener: Listener<K>): () => void;
  /** A listener that keeps this process's caches or sockets in step: it runs on every node for every event. */
  onEveryNode<K extends EventName>(name: K, listener: Listener<K>): () => void;
  /**
   * Events that pass `filter`, as an async iterator (GraphQL subscriptions); `return()` ends it.
   * `keys` (see `routingKeysOf`): only events with one of these keys are offered to `filter`, so
   * an event costs its own subscribers rather than every open subscription. Without keys, every
   * event is offered (tests, tools).
   */
  stream(filter: (event: DomainEvent) => boolean, keys?: RoutingKey[]): AsyncIterableIterator<DomainEvent>;
  /** Resolves when every listener started so far has finished (tests, shutdown). */
  idle(): Promise<void>;
}

/** Who an event concerns, as strings a subscription can ask for. */
export type RoutingKey = `account:${string}` | `inbox:${string}` | `contact-inbox:${string}` | `presence:${string}` | `user:${string}`;

export function routingKeysOf(event: DomainEvent): RoutingKey[] {
  switch (event.name) {
    case 'presence.updated':
      return [`presence:${String(event.payload.accountId)}`];
    case 'notification.created':
      return [`user:${String(event.payload.notification.userId)}`];
    case 'contact.updated':
      return [`account:${String(event.payload.contact.accountId)}`];
    case 'access.revoked':
      return [`user:${String(event.payload.userId)}`];
    case 'settings.changed':
      return [`account:${String(event.payload.accountId)}`];
    default: {
      const { conversation } = event.payload;
      return [`account:${String(conversation.accountId)}`, `inbox:${String(conversation.inboxId)}`, `contact-inbox:${String(conversation.contactInboxId)}`];
    }
  }
}

// A subscriber that stops reading must not make the server hold events for it forever.
const MAX_BUFFERED_PER_STREAM = 1_000;

/** What a node does with an event: offer it to its streams and every-node listeners, run its work listeners. */
export interface LocalDelivery extends Omit<EventBus, 'publish'> {
  /** Streams and `onEveryNode` listeners. */
  offer(event: DomainEvent): void;
  /** `on` listeners. */
  work(event: DomainEvent): void;
  /** Runs `task` as a listener runs: after the caller returns, errors logged, awaited by `idle()`. */
  track(task: () => unknown, label: string): void;
}

export function createInProcessEventBus(logger: Logger): EventBus {
  const local = createLocalDelivery(logger);
  return {
    publish(name, payload) {
      const event = { name, payload } as DomainEvent;
      local.offer(event);
      local.work(event);
    },
    on: local.on,
    onEveryNode: local.onEveryNode,
    stream: local.stream,
    idle: local.idle,
  };
}

export function createLocalDelivery(logger: Logger): LocalDelivery {
  const workListeners = new Map<EventName, Set<Listener<never>>>();
  const nodeListeners = new Map<EventName, Set<Listener<never>>>();
  const streamsByKey = new Map<RoutingKey | '*', Set<(event: DomainEvent) => void>>();
  const running = new Set<Promise<void>>();

  const track = (task: () => unknown, label: string): void => {
    // Listeners run after the command returns, so a slow or failing one never blocks or fails
    // the command that published.
    const run = Promise.resolve()
      .then(task)
      .then(() => undefined)
      .catch((error: unknown) => logger.error({ err: error, event: label }, 'event listener failed'))
      .finally(() => running.delete(run));
    running.add(run);
  };
  const subscribe = (registry: Map<EventName, Set<Listener<never>>>) =>
    <K extends EventName>(name: K, listener: Listener<K>): (() => void) => {
      const set = registry.get(name) ?? new Set();
      registry.set(name, set);
      set.add(listener as Listener<never>);
      return () => set.delete(listener as Listener<never>);
    };

  return {
    track,
    offer(event) {
      if (streamsByKey.size > 0) {
        const offered = new Set<(event: DomainEvent) => void>();
        for (const key of [...routingKeysOf(event), '*' as const]) for (const deliver of streamsByKey.get(key) ?? []) offered.add(deliver);
        for (const deliver of offered) deliver(event);
      }
      for (const listener of nodeListeners.get(event.name) ?? []) track(() => listener(event.payload as never), event.name);
    },
    work(event) {
      for (const listener of workListeners.get(event.name) ?? []) track(() => listener(event.payload as never), event.name);
    },

    on: subscribe(workListeners),
    onEveryNode: subscribe(nodeListeners),

    stream(filter, routing) {
      const keys: Array<RoutingKey | '*'> = routing ?? ['*'];
      const buffered: DomainEvent[] = [];
      let waiting: ((result: IteratorResult<DomainEvent>) => void) | undefined;
      let done = false;
      const deliver = (event: DomainEvent): void => {
        if (done || !filter(event)) return;
        if (waiting) {
          const resolve = waiting;
          waiting = undefined;
          resolve({ value: event, done: false });
        } else if (buffered.length < MAX_BUFFERED_PER_STREAM) {
          buffered.push(event);
        } else {
          logger.warn({ event: event.name }, 'subscriber is not reading; event dropped');
        }
      };
      for (const key of keys) {
        const set = streamsByKey.get(key) ?? new Set();
        streamsByKey.set(key, set);
        set.add(deliver);
      }
      const finish = (): Promise<IteratorResult<DomainEvent>> => {
        done = true;
        for (const key of keys) {
          const set = streamsByKey.get(key);
          set?.delete(deliver);
          if (set?.size === 0) streamsByKey.delete(key);
        }
        buffered.length = 0;
        waiting?.({ value: undefined, done: true });
        waiting = undefined;
        return Promise.resolve({ value: undefined, done: true });
      };
      return {
        next() {
          if (buffered.length > 0) return Promise.resolve({ value: buffered.shift()!, done: false });
          if (done) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve) => (waiting = resolve));
        },
        return: finish,
        throw(error?: unknown) {
          void finish();
          return Promise.reject(error);
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },

    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}

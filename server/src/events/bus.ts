// The event bus: commands publish, listeners and GraphQL subscriptions consume. The in-process
// implementation below is the default; a multi-node one plugs in behind the same interface.
import type { Logger } from '../logger.ts';
import type { DomainEvent, EventMap, EventName } from './event-map.ts';

export type Listener<K extends EventName> = (payload: EventMap[K]) => void | Promise<void>;

export interface EventBus {
  publish<K extends EventName>(name: K, payload: EventMap[K]): void;
  on<K extends EventName>(name: K, listener: Listener<K>): () => void;
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

export function createInProcessEventBus(logger: Logger): EventBus {
  const listeners = new Map<EventName, Set<Listener<never>>>();
  const streamsByKey = new Map<RoutingKey | '*', Set<(event: DomainEvent) => void>>();
  const running = new Set<Promise<void>>();

  return {
    publish(name, payload) {
      const event = { name, payload } as DomainEvent;
      if (streamsByKey.size > 0) {
        const offered = new Set<(event: DomainEvent) => void>();
        for (const key of [...routingKeysOf(event), '*' as const]) for (const deliver of streamsByKey.get(key) ?? []) offered.add(deliver);
        for (const deliver of offered) deliver(event);
      }
      for (const listener of listeners.get(name) ?? []) {
        // Listeners run after the command returns, so a slow or failing one never blocks or
        // fails the command that published.
        const run = Promise.resolve()
          .then(() => (listener as Listener<typeof name>)(payload))
          .catch((error: unknown) => logger.error({ err: error, event: name }, 'event listener failed'))
          .finally(() => running.delete(run));
        running.add(run);
      }
    },

    on(name, listener) {
      const set = listeners.get(name) ?? new Set();
      listeners.set(name, set);
      set.add(listener as Listener<never>);
      return () => set.delete(listener as Listener<never>);
    },

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

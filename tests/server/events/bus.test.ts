// The in-process event bus routes each event to the subscriptions that asked for one of its keys
// (its account, inbox, contact-inbox …), so an event costs its own subscribers, not every open one.
import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { createInProcessEventBus, routingKeysOf } from '../../../server/src/events/bus.ts';
import type { DomainEvent } from '../../../server/src/events/event-map.ts';
import { createLogger } from '../../../server/src/logger.ts';

const conversation = (accountId: Types.ObjectId, inboxId: Types.ObjectId, contactInboxId: Types.ObjectId) =>
  ({ _id: new Types.ObjectId(), accountId, inboxId, contactInboxId }) as never;

async function drained(stream: AsyncIterableIterator<DomainEvent>): Promise<DomainEvent[]> {
  const events: DomainEvent[] = [];
  // Everything published so far is buffered: read until a tick finds nothing more.
  for (;;) {
    const next = await Promise.race([stream.next(), new Promise<null>((resolve) => setImmediate(() => resolve(null)))]);
    if (!next || next.done) break;
    events.push(next.value);
  }
  await stream.return?.();
  return events;
}

describe('the event bus', () => {
  it('offers an event only to streams keyed by its account, inbox or contact-inbox, and to unkeyed ones', async () => {
    const bus = createInProcessEventBus(createLogger('silent'));
    const [account, inboxA, inboxB, visitor, otherVisitor] = Array.from({ length: 5 }, () => new Types.ObjectId());
    const streams = {
      inboxA: bus.stream(() => true, [`inbox:${inboxA}`]),
      account: bus.stream(() => true, [`account:${account}`]),
      visitor: bus.stream(() => true, [`contact-inbox:${visitor}`, `presence:${account}`]),
      otherVisitor: bus.stream(() => true, [`contact-inbox:${otherVisitor}`]),
      everything: bus.stream(() => true),
    };
    const system = { type: 'system', accountId: account } as never;
    bus.publish('conversation.created', { conversation: conversation(account!, inboxA!, visitor!), performedBy: system });
    bus.publish('conversation.created', { conversation: conversation(account!, inboxB!, otherVisitor!), performedBy: system });
    bus.publish('presence.updated', { accountId: account!, userId: new Types.ObjectId(), availability: 'online' });

    const names = async (stream: AsyncIterableIterator<DomainEvent>) =>
      (await drained(stream)).map((event) => (event.name === 'conversation.created' ? String(event.payload.conversation.inboxId) : event.name));
    expect(await names(streams.inboxA)).toEqual([String(inboxA)]);
    expect(await names(streams.account)).toEqual([String(inboxA), String(inboxB)]);
    expect(await names(streams.visitor)).toEqual([String(inboxA), 'presence.updated']);
    expect(await names(streams.otherVisitor)).toEqual([String(inboxB)]);
    expect(await names(streams.everything)).toEqual([String(inboxA), String(inboxB), 'presence.updated']);
  });

  it('keys every kind of event, so none is routed nowhere', () => {
    const id = new Types.ObjectId();
    expect(routingKeysOf({ name: 'notification.created', payload: { notification: { userId: id } } } as never)).toEqual([`user:${id}`]);
    expect(routingKeysOf({ name: 'contact.updated', payload: { contact: { accountId: id } } } as never)).toEqual([`account:${id}`]);
  });

  it('forgets a stream once it is closed', async () => {
    const bus = createInProcessEventBus(createLogger('silent'));
    const inbox = new Types.ObjectId();
    const stream = bus.stream(() => true, [`inbox:${inbox}`]);
    await stream.return?.();
    bus.publish('conversation.created', { conversation: conversation(new Types.ObjectId(), inbox, new Types.ObjectId()), performedBy: { type: 'system' } as never });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });
});

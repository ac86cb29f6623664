// The widget's "We are online / away" follows the inbox's agents live: a PRESENCE widget event
// when one of them changes availability, none for agents of other inboxes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox } from '../../support/factories.ts';
import { openWidget } from './visitor-client.ts';

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla();
});

afterAll(stopAllTestCharlas);

const SET_AVAILABILITY = `mutation($status: Availability!) { setAvailability(status: $status) { id } }`;

describe('agents online in the widget', () => {
  it('tells the visitor when the inbox’s agents come and go, and only those', async () => {
    const account = await buildAccount();
    const ana = await buildAgent(account._id, { availability: 'offline' });
    const elsewhere = await buildAgent(account._id, { availability: 'offline' });
    const inbox = await buildInbox(account._id, { memberIds: [ana.user._id] });
    const visitor = await openWidget(charla, inbox.websiteToken!);
    expect(visitor.config.agentsOnline).toBe(false);
    const events = await charla.subscribe(`subscription { widgetEvents { type agentsOnline } }`, {}, visitor.visitorToken);

    await charla.mutate(SET_AVAILABILITY, { status: 'ONLINE' }, elsewhere.token);
    await charla.mutate(SET_AVAILABILITY, { status: 'ONLINE' }, ana.token);
    await events.waitFor((result) => result.data?.widgetEvents.agentsOnline === true);
    await charla.mutate(SET_AVAILABILITY, { status: 'BUSY' }, ana.token);
    await events.waitFor((result) => result.data?.widgetEvents.agentsOnline === false);
    // Two events, both Ana's: the other inbox's agent was never announced.
    expect(events.results.map((result) => result.data?.widgetEvents)).toEqual([
      { type: 'PRESENCE', agentsOnline: true },
      { type: 'PRESENCE', agentsOnline: false },
    ]);
    await events.close();
  });
});

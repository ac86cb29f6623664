// Sends what agents and the bot write to the contact out through the inbox's channel: outgoing and
// template messages only — never private notes or activity lines, and never what came in from the
// channel (incoming messages), so nothing echoes back.
import { adapterFor } from '@charla/channels';
import { queueChannelDelivery } from '../jobs/deliver-channel-message.ts';
import type { Services } from '../services.ts';

export function registerOutboundDeliveryListener(services: Services): void {
  services.bus.on('message.created', async ({ message }) => {
    if (message.private || (message.messageType !== 'outgoing' && message.messageType !== 'template')) return;
    const inbox = await services.inboxes.of(message.inboxId);
    const adapter = inbox ? adapterFor(inbox.channelType) : undefined;
    if (!inbox || !adapter || adapter.sendsWith?.(inbox.channelConfig ?? {}) === false) return;
    await queueChannelDelivery(services, message._id);
  });
}

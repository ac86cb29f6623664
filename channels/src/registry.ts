// The adapters the server wires to inboxes by channelType. A new channel is a folder here and one
// line below; the server's domain does not change.
import { apiChannel } from './api/adapter.ts';
import type { ChannelAdapter } from './contract.ts';
import { emailChannel } from './email/adapter.ts';
import { telegramChannel } from './telegram/adapter.ts';

const ADAPTERS: ReadonlyMap<string, ChannelAdapter<never>> = new Map([
  [apiChannel.type, apiChannel as ChannelAdapter<never>],
  [telegramChannel.type, telegramChannel as ChannelAdapter<never>],
  [emailChannel.type, emailChannel as ChannelAdapter<never>],
]);

export function adapterFor(channelType: string): ChannelAdapter<unknown> | undefined {
  return ADAPTERS.get(channelType) as ChannelAdapter<unknown> | undefined;
}

export function channelTypesWithAdapters(): string[] {
  return [...ADAPTERS.keys()];
}

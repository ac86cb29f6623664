// Channels: the adapter contract, signatures, and one adapter per channel.
export * from './contract.ts';
export * from './signature.ts';
export * from './registry.ts';
export { apiChannel, type ApiChannelConfig } from './api/adapter.ts';

// Channels: the adapter contract, signatures, and one adapter per channel.
export * from './contract.ts';
export * from './signature.ts';
export * from './http-answers.ts';
export * from './registry.ts';
export { apiChannel, type ApiChannelConfig } from './api/adapter.ts';
export { telegramChannel, TELEGRAM_API_BASE_URL, type TelegramChannelConfig } from './telegram/adapter.ts';
export { SECRET_TOKEN_HEADER as TELEGRAM_SECRET_TOKEN_HEADER, telegramSecretToken } from './telegram/secret-token.ts';
export { emailChannel, isAutoReply, type EmailChannelConfig, type ParsedMail } from './email/adapter.ts';
export { withoutQuotedHistory } from './email/quoted-history.ts';
export { renderMarkdown, escapeHtml } from './markdown.ts';

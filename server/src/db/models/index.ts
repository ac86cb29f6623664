// Every model, so start-up can make sure their indexes exist.
export * from './account.ts';
export * from './user.ts';
export * from './team.ts';
export * from './inbox.ts';
export * from './contact.ts';
export * from './contact-inbox.ts';
export * from './conversation.ts';
export * from './message.ts';
export * from './attachment.ts';
export * from './label.ts';
export * from './canned-response.ts';
export * from './mention.ts';
export * from './notification.ts';
export * from './csat-response.ts';
export * from './reporting-event.ts';
export * from './access-token.ts';
export * from './outbox-email.ts';

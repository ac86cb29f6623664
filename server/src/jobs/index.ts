// Registers every Agenda job handler with the scheduler (names in scheduler.ts).
import type { Services } from '../services.ts';
import { defineDeliverChannelMessageJob } from './deliver-channel-message.ts';
import { defineDeliverOutboxEmailJob } from './deliver-outbox-email.ts';
import { defineDeliverWebhookJob } from './deliver-webhook.ts';
import { defineEmailContinuityJob } from './email-continuity.ts';
import { defineEmailNotificationsJob } from './email-notifications.ts';
import { defineRunOneOffCampaignJob } from './run-one-off-campaign.ts';
import { defineRunScheduledRuleJob } from './run-scheduled-rule.ts';
import { defineSweepDeliveriesJob } from './sweep-deliveries.ts';
import { defineWakeSnoozedConversationJob } from './wake-snoozed-conversation.ts';

export function defineJobs(services: Services): void {
  defineWakeSnoozedConversationJob(services);
  defineDeliverOutboxEmailJob(services);
  defineRunScheduledRuleJob(services);
  defineDeliverChannelMessageJob(services);
  defineDeliverWebhookJob(services);
  defineRunOneOffCampaignJob(services);
  defineEmailContinuityJob(services);
  defineEmailNotificationsJob(services);
  defineSweepDeliveriesJob(services);
}

// Subscribes the listeners (notifications, reporting, auto-assignment, automation …) to the event bus.
import type { Services } from '../services.ts';
import { registerAccountWebhookListeners } from './account-webhooks.ts';
import { registerAutoAssignmentListener } from './auto-assignment.ts';
import { registerEmailContinuityListener } from './email-continuity.ts';
import { registerNotificationListeners } from './notifications.ts';
import { registerOutboundDeliveryListener } from './outbound-delivery.ts';
import { registerReportingListener } from './reporting.ts';
import { registerRulesListener } from './rules.ts';

export function registerListeners(services: Services): void {
  registerAutoAssignmentListener(services);
  registerNotificationListeners(services);
  registerOutboundDeliveryListener(services);
  registerReportingListener(services);
  registerRulesListener(services);
  registerAccountWebhookListeners(services);
  registerEmailContinuityListener(services);
}

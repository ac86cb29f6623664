// Subscribes the listeners (notifications, reporting, auto-assignment …) to the event bus.
import type { Services } from '../services.ts';
import { registerAutoAssignmentListener } from './auto-assignment.ts';
import { registerCsatSurveyListener } from './csat-survey.ts';
import { registerNotificationListeners } from './notifications.ts';
import { registerReportingListener } from './reporting.ts';

export function registerListeners(services: Services): void {
  registerAutoAssignmentListener(services);
  registerCsatSurveyListener(services);
  registerNotificationListeners(services);
  registerReportingListener(services);
}

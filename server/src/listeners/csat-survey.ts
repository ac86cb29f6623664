// Asks for the satisfaction survey whenever a conversation is resolved; the command decides
// whether one is due (inbox setting, muted, already sent).
import { postCsatSurvey } from '../commands/post-csat-survey.ts';
import type { Services } from '../services.ts';

export function registerCsatSurveyListener(services: Services): void {
  services.bus.on('conversation.status_changed', async ({ conversation }) => {
    if (conversation.status !== 'resolved') return;
    await postCsatSurvey(services, { conversation, performedBy: { type: 'system', accountId: conversation.accountId } });
  });
}

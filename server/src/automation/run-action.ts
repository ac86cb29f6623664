// Carries out one rule action through the same command a person's action goes through, performed
// by the rule. Returns what happened; a failure is thrown and recorded by the caller.
import { renderTemplate, textForLocale, type LocalizedText, type RuleAction, type TemplateVariable } from '@charla/rules';
import { randomUUID } from 'node:crypto';
import { sign } from '@charla/channels';
import { Types } from 'mongoose';
import { ruleSetWebhookSecret } from '../db/models/rule-set.ts';
import { assignConversation } from '../commands/assign-conversation.ts';
import { assignTeam } from '../commands/assign-team.ts';
import { autoAssignConversation } from '../commands/auto-assign-conversation.ts';
import { addLabels, removeLabels } from '../commands/change-labels.ts';
import { changeConversationStatus } from '../commands/change-conversation-status.ts';
import { currentConversation } from '../commands/conversation-write.ts';
import { createMessage } from '../commands/create-message.ts';
import { muteConversation } from '../commands/mute-conversation.ts';
import { postCsatSurvey } from '../commands/post-csat-survey.ts';
import { requestEmail } from '../commands/request-email.ts';
import { sendTranscript } from '../commands/send-transcript.ts';
import { setConversationPriority } from '../commands/set-conversation-priority.ts';
import { snoozeUntil, type SnoozeOption } from '../commands/snooze-time.ts';
import { MAX_MESSAGE_LENGTH } from '../commands/send-message.ts';
import { ContactInbox } from '../db/models/contact-inbox.ts';
import { Team } from '../db/models/team.ts';
import { User } from '../db/models/user.ts';
import type { Actor } from '../events/actor.ts';
import { notFound } from '../errors.ts';
import { translate } from '../i18n/activity.ts';
import type { Services } from '../services.ts';
import type { RuleTrigger } from './facts.ts';

export type ActionOutcome = { outcome: 'done' | 'skipped'; detail?: string };

const WEBHOOK_TIMEOUT_MS = 5_000;

const SNOOZE_OPTIONS: Record<'until_next_reply' | 'tomorrow' | 'next_week', SnoozeOption> = {
  until_next_reply: 'UNTIL_NEXT_REPLY',
  tomorrow: 'TOMORROW',
  next_week: 'NEXT_WEEK',
};

export async function runAction(services: Services, trigger: RuleTrigger, action: RuleAction, performedBy: Extract<Actor, { type: 'rule' }>): Promise<ActionOutcome> {
  if (action.type === 'send_webhook') return sendWebhook(services, trigger, action.params.url, performedBy);
  // The offer is the answer to the widget's page view (see offerCampaign); nothing to change.
  if (action.type === 'show_campaign') return { outcome: 'done', detail: action.params.campaignId };
  if (!trigger.conversation) return { outcome: 'skipped', detail: 'the event has no conversation' };
  // Earlier actions may have changed it: each action starts from the stored conversation.
  const conversation = await currentConversation(trigger.conversation._id);
  const locale = trigger.inbox?.settings?.locale ?? 'en';

  switch (action.type) {
    case 'send_message': {
      const content = await renderedText(trigger, action.params.text, locale);
      if (!content) return { outcome: 'skipped', detail: 'the text is empty' };
      if (action.params.messageType === 'outgoing') {
        const agent = await agentOfAccount(trigger, action.params.agentId!);
        await createMessage(services, { conversation, messageType: 'outgoing', content, sender: { type: 'agent', id: agent._id }, performedBy });
      } else {
        await createMessage(services, { conversation, messageType: 'template', content, performedBy });
      }
      return { outcome: 'done' };
    }
    case 'request_email':
      return (await requestEmail(services, { conversation, performedBy })) ? { outcome: 'done' } : { outcome: 'skipped', detail: 'already asked in this conversation' };
    case 'send_csat':
      return (await postCsatSurvey(services, { conversation, performedBy })) ? { outcome: 'done' } : { outcome: 'skipped', detail: 'not resolved, muted or already surveyed' };
    case 'assign_agent': {
      if ('roundRobin' in action.params) {
        const picked = await autoAssignConversation(services, { conversation, performedBy, evenWhenInboxOff: true });
        return picked ? { outcome: 'done', detail: String(picked) } : { outcome: 'skipped', detail: 'no online member under the limit' };
      }
      await assignConversation(services, { conversation, assigneeId: new Types.ObjectId(action.params.agentId), performedBy });
      return { outcome: 'done' };
    }
    case 'assign_team': {
      const teamId = action.params.teamId ? new Types.ObjectId(action.params.teamId) : null;
      if (teamId && !(await Team.exists({ _id: teamId, accountId: trigger.accountId }))) throw notFound('team');
      await assignTeam(services, { conversation, teamId, performedBy });
      return { outcome: 'done' };
    }
    case 'add_label':
      await addLabels(services, { conversation, labels: action.params.labels, performedBy });
      return { outcome: 'done' };
    case 'remove_label':
      await removeLabels(services, { conversation, labels: action.params.labels, performedBy });
      return { outcome: 'done' };
    case 'change_status': {
      const { status, snooze, snoozeMinutes } = action.params;
      const now = services.now();
      const timezone = trigger.inbox?.settings?.workingHours?.timezone ?? 'UTC';
      const snoozedUntil = snoozeMinutes ? new Date(now.getTime() + snoozeMinutes * 60_000) : snooze ? snoozeUntil(SNOOZE_OPTIONS[snooze], timezone, now) : null;
      await changeConversationStatus(services, { conversation, status, snoozedUntil, performedBy });
      return { outcome: 'done' };
    }
    case 'handoff': {
      if (conversation.status !== 'pending') return { outcome: 'skipped', detail: `the conversation is ${conversation.status}, not pending` };
      // Notifying the inbox and auto-assignment follow from the pending → open change.
      await changeConversationStatus(services, { conversation, status: 'open', onlyFromStatus: 'pending', performedBy });
      return { outcome: 'done' };
    }
    case 'mute':
      await muteConversation(services, { conversation, performedBy });
      return { outcome: 'done' };
    case 'add_private_note': {
      const content = await renderedText(trigger, action.params.text, locale);
      if (!content) return { outcome: 'skipped', detail: 'the text is empty' };
      await createMessage(services, { conversation, messageType: 'outgoing', private: true, content, sender: { type: 'bot' }, performedBy });
      return { outcome: 'done' };
    }
    case 'set_priority':
      await setConversationPriority(services, { conversation, priority: action.params.priority, performedBy });
      return { outcome: 'done' };
    case 'send_transcript': {
      const address = await transcriptAddress(trigger, conversation.assigneeId ?? null, action.params);
      if (!address) return { outcome: 'skipped', detail: `the ${action.params.to} has no e-mail address` };
      await sendTranscript(services, { conversation, to: [address], performedBy });
      return { outcome: 'done' };
    }
  }
}

async function agentOfAccount(trigger: RuleTrigger, id: string) {
  const agent = await User.findOne({ _id: new Types.ObjectId(id), accountId: trigger.accountId }, { name: 1 }).lean();
  if (!agent) throw notFound('agent');
  return agent;
}

/** The action's text in the locale with its variables filled in; at most a message's length. */
async function renderedText(trigger: RuleTrigger, text: LocalizedText, locale: 'en' | 'es'): Promise<string> {
  const content = renderTemplate(textForLocale(text, locale), await templateVariables(trigger, locale)).trim();
  if (content.length > MAX_MESSAGE_LENGTH) throw new Error(`the text is longer than ${MAX_MESSAGE_LENGTH} characters once its variables are filled in`);
  return content;
}

async function templateVariables(trigger: RuleTrigger, locale: 'en' | 'es'): Promise<Partial<Record<TemplateVariable, string | number | null>>> {
  const { contact, inbox, conversation } = trigger;
  const [assignee, contactInbox] = await Promise.all([
    conversation?.assigneeId ? User.findById(conversation.assigneeId, { name: 1 }).lean() : null,
    conversation ? ContactInbox.findById(conversation.contactInboxId, { claimedByEmail: 1, hmacVerified: 1 }).lean() : null,
  ]);
  // A visitor who claimed a known contact by typing its e-mail must not read what the contact holds.
  const shownContact = contactInbox?.claimedByEmail && !contactInbox.hmacVerified ? null : contact;
  const variables: Partial<Record<TemplateVariable, string | number | null>> = {
    'contact.name': shownContact?.name,
    'contact.email': shownContact?.email,
    'contact.phone': shownContact?.phone,
    'inbox.name': inbox?.name,
    'conversation.displayId': conversation?.displayId,
    'agent.name': assignee?.name,
  };
  // The inbox's own texts may use the variables too ("Hola {{contact.name}}").
  variables['inbox.greeting'] = renderTemplate(inbox?.settings?.greeting?.text ?? '', variables);
  variables['inbox.outOfOfficeMessage'] = renderTemplate(inbox?.settings?.workingHours?.outOfOfficeMessage?.trim() || translate(locale, 'automation.out_of_office'), variables);
  return variables;
}

async function transcriptAddress(trigger: RuleTrigger, assigneeId: Types.ObjectId | null, params: { to?: 'contact' | 'assignee'; email?: string }): Promise<string | null> {
  if (params.email) return params.email;
  if (params.to === 'contact') return trigger.contact?.email ?? null;
  if (!assigneeId) return null;
  const assignee = await User.findById(assigneeId, { email: 1 }).lean();
  return assignee?.email ?? null;
}

async function sendWebhook(services: Services, trigger: RuleTrigger, url: string, performedBy: Extract<Actor, { type: 'rule' }>): Promise<ActionOutcome> {
  const { conversation, message, contact } = trigger;
  const body = {
    event: trigger.event,
    ruleSet: performedBy.ruleSetKey,
    rule: performedBy.ruleId,
    conversation: conversation && {
      id: String(conversation._id),
      displayId: conversation.displayId,
      inboxId: String(conversation.inboxId),
      status: conversation.status,
      labels: conversation.labels,
      assigneeId: conversation.assigneeId ? String(conversation.assigneeId) : null,
      teamId: conversation.teamId ? String(conversation.teamId) : null,
      priority: conversation.priority,
    },
    message: message && !message.private ? { id: String(message._id), messageType: message.messageType, contentType: message.contentType, content: message.content } : null,
    contact: contact && { id: String(contact._id), name: contact.name, email: contact.email ?? null },
  };
  const payload = Buffer.from(JSON.stringify(body));
  // Signed like account webhooks, with the rule set's secret (presets send no webhooks).
  const secret = performedBy.ruleSetKey ? await ruleSetWebhookSecret(trigger.accountId, performedBy.ruleSetKey) : null;
  const headers = {
    'content-type': 'application/json',
    'x-charla-event': trigger.event,
    'x-charla-delivery': `rule_${randomUUID()}`,
    ...(secret && { 'x-charla-signature': sign(secret, payload, services.now()) }),
  };
  const { status } = await services.outbound.post(url, { body: payload, headers }, { timeoutMs: WEBHOOK_TIMEOUT_MS });
  if (status < 200 || status >= 300) throw new Error(`the webhook answered HTTP ${status}`);
  return { outcome: 'done', detail: `HTTP ${status}` };
}

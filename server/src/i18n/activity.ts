// Strings the server writes into conversations and notifications, in the account's locale.
// Keys are stable; `%{name}` placeholders are filled by `translate`.
import type { Locale } from '../db/models/account.ts';

const en = {
  'activity.assigned': 'Assigned to %{assignee} by %{user}',
  'activity.self_assigned': '%{user} self-assigned this conversation',
  'activity.unassigned': 'Conversation unassigned by %{user}',
  'activity.team_assigned': 'Assigned to %{team} team by %{user}',
  'activity.team_unassigned': 'Unassigned from %{team} team by %{user}',
  'activity.labels_added': '%{user} added %{labels}',
  'activity.labels_removed': '%{user} removed %{labels}',
  'activity.resolved': 'Conversation was marked resolved by %{user}',
  'activity.reopened': 'Conversation was reopened by %{user}',
  'activity.pending': 'Conversation was marked as pending by %{user}',
  'activity.snoozed': 'Conversation was snoozed by %{user}',
  'activity.muted': '%{user} has muted the conversation',
  'activity.unmuted': '%{user} has unmuted the conversation',
  'automation.system': 'Automation System',
  'message.deleted': 'This message was deleted',
  'notification.conversation_created': 'A new conversation #%{id} has been created in %{inbox}',
  'notification.conversation_assigned': 'Conversation #%{id} has been assigned to you',
  'notification.assigned_conversation_new_message': 'New message in your assigned conversation #%{id}',
  'notification.conversation_mention': 'You have been mentioned in conversation #%{id}',
  'notification.participating_conversation_new_message': 'New message in conversation #%{id} you are participating in',
  'email.get_notified': 'Get notified by email',
  'email.give_team_a_way': 'Give the team a way to reach you.',
  'csat.message': 'Please rate the conversation',
  'automation.out_of_office': "We are away right now. Leave us a message and we will get back to you as soon as we are back.",
  'transcript.subject': 'Transcript of conversation #%{id}',
  'continuity.subject': 'New messages from %{inbox}',
  'notification_email.subject': 'You have %{count} unread notifications',
  'notification_email.open': 'Open the conversation',
  'continuity.reply_by_email': 'Reply to this e-mail to continue the conversation.',
  'continuity.reply_on_site': 'Go back to our website to continue the conversation.',
} as const;

export type MessageKey = keyof typeof en;

const es: Record<MessageKey, string> = {
  'activity.assigned': 'Asignado a %{assignee} por %{user}',
  'activity.self_assigned': '%{user} se autoasignó esta conversación',
  'activity.unassigned': 'Conversación desasignada por %{user}',
  'activity.team_assigned': 'Asignado al equipo %{team} por %{user}',
  'activity.team_unassigned': 'Desasignado del equipo %{team} por %{user}',
  'activity.labels_added': '%{user} agregó %{labels}',
  'activity.labels_removed': '%{user} eliminó %{labels}',
  'activity.resolved': 'La conversación fue marcada como resuelta por %{user}',
  'activity.reopened': 'La conversación fue reabierta por %{user}',
  'activity.pending': 'La conversación fue marcada como pendiente por %{user}',
  'activity.snoozed': 'La conversación fue pospuesta por %{user}',
  'activity.muted': '%{user} ha silenciado la conversación',
  'activity.unmuted': '%{user} ha reactivado la conversación',
  'automation.system': 'Sistema de automatización',
  'message.deleted': 'Este mensaje se ha eliminado',
  'notification.conversation_created': 'Se ha creado una nueva conversación #%{id} en %{inbox}',
  'notification.conversation_assigned': 'Se te ha asignado la conversación #%{id}',
  'notification.assigned_conversation_new_message': 'Nuevo mensaje en tu conversación asignada #%{id}',
  'notification.conversation_mention': 'Has sido mencionado en la conversación #%{id}',
  'notification.participating_conversation_new_message': 'Nuevo mensaje en la conversación #%{id} en la que participas',
  'email.get_notified': 'Recibir notificaciones por correo electrónico',
  'email.give_team_a_way': 'Dale al equipo una forma de llegar a ti.',
  'csat.message': 'Por favor, valora la conversación',
  'automation.out_of_office': 'Ahora mismo no estamos. Déjanos un mensaje y te responderemos en cuanto volvamos.',
  'transcript.subject': 'Transcripción de la conversación #%{id}',
  'continuity.subject': 'Nuevos mensajes de %{inbox}',
  'notification_email.subject': 'Tienes %{count} notificaciones sin leer',
  'notification_email.open': 'Abrir la conversación',
  'continuity.reply_by_email': 'Responde a este correo para continuar la conversación.',
  'continuity.reply_on_site': 'Vuelve a nuestro sitio web para continuar la conversación.',
};

const catalogs: Record<Locale, Record<MessageKey, string>> = { en, es };

export function translate(locale: Locale, key: MessageKey, values: Record<string, string | number> = {}): string {
  const template = catalogs[locale]?.[key] ?? en[key];
  return template.replace(/%\{(\w+)\}/g, (_match, name: string) => String(values[name] ?? ''));
}

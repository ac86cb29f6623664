// What to call a contact: anonymous widget visitors have neither a name nor an e-mail yet.
import { i18n } from '../i18n/index.ts';

export function contactLabel(contact: { name: string; email: string | null }): string {
  return contact.name || contact.email || i18n.global.t('conversation.anonymous');
}

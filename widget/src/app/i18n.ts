// The widget's strings in English and Spanish (PRODUCT.md gives the Spanish ones users expect).
// Messages are functions made here (`{name}` placeholders only), so the app ships vue-i18n's lite
// build (petite-vue-i18n) without its message compiler: the 60 KB budget has no room for more.
import { createI18n, type MessageContext, type MessageFunction } from 'petite-vue-i18n';

type Tree = { [key: string]: string | string[] | Tree };

function message(text: string): MessageFunction {
  return (context: MessageContext) => text.replace(/\{(\w+)\}/g, (_match, name: string) => String(context.named(name) ?? ''));
}

/**
 * Flat keys ('email.label') to message functions: the lite build looks keys up as they are, with
 * no path resolution, and that is all the widget needs.
 */
function compile(tree: Tree | string[], prefix = '', out: Record<string, MessageFunction> = {}): Record<string, MessageFunction> {
  for (const [key, value] of Object.entries(tree)) {
    if (typeof value === 'string') out[prefix + key] = message(value);
    else compile(value, `${prefix}${key}.`, out); // lists become 'csat.ratings.0', …
  }
  return out;
}

const en = {
  replyTime: {
    in_a_few_minutes: 'Typically replies in a few minutes',
    in_a_few_hours: 'Typically replies in a few hours',
    in_a_day: 'Typically replies in a day',
  },
  online: 'We are online',
  offline: 'We are away',
  close: 'Close chat',
  messages: 'Conversation',
  you: 'You',
  placeholder: 'Type your message…',
  send: 'Send',
  sending: 'Sending…',
  failed: 'Not sent',
  retry: 'Retry',
  deleted: 'This message was deleted',
  loadOlder: 'Load earlier messages',
  typing: '{name} is typing…',
  reconnecting: 'Reconnecting…',
  resolved: 'This conversation was resolved',
  startNew: 'Start a new conversation',
  transcript: 'Request a conversation transcript',
  transcriptSent: 'The transcript is on its way to your e-mail',
  email: {
    label: 'E-mail address',
    placeholder: 'Please enter your e-mail',
    invalid: 'Please enter a valid e-mail address',
    submit: 'Submit',
  },
  csat: {
    ratings: ['Very unhappy', 'Unhappy', 'Neutral', 'Happy', 'Very happy'],
    feedback: 'Tell us more (optional)',
    submit: 'Submit',
    thanks: 'Thank you for your feedback',
  },
  preChat: {
    start: 'Start conversation',
    required: 'This field is required',
    invalid: 'Please check this field',
  },
  attach: 'Attach a file',
  emoji: 'Insert emoji',
  uploading: 'Uploading… {percent}%',
  uploadFailed: 'The file could not be sent',
  error: 'Something went wrong. Please try again.',
};

type Messages = typeof en;

const es: Messages = {
  replyTime: {
    in_a_few_minutes: 'Normalmente responde en unos minutos',
    in_a_few_hours: 'Normalmente responde en unas horas',
    in_a_day: 'Normalmente responde en un día',
  },
  online: 'Estamos en línea',
  offline: 'Estamos ausentes',
  close: 'Cerrar chat',
  messages: 'Conversación',
  you: 'Tú',
  placeholder: 'Escribe tu mensaje…',
  send: 'Enviar',
  sending: 'Enviando…',
  failed: 'No enviado',
  retry: 'Reintentar',
  deleted: 'Este mensaje se ha eliminado',
  loadOlder: 'Cargar mensajes anteriores',
  typing: '{name} está escribiendo…',
  reconnecting: 'Reconectando…',
  resolved: 'Esta conversación se ha resuelto',
  startNew: 'Iniciar una nueva conversación',
  transcript: 'Solicitar una transcripción de la conversación',
  transcriptSent: 'La transcripción va de camino a tu correo electrónico',
  email: {
    label: 'Correo electrónico',
    placeholder: 'Introduce tu correo electrónico',
    invalid: 'Introduce un correo electrónico válido',
    submit: 'Enviar',
  },
  csat: {
    ratings: ['Muy insatisfecho', 'Insatisfecho', 'Neutral', 'Satisfecho', 'Muy satisfecho'],
    feedback: 'Cuéntanos más (opcional)',
    submit: 'Enviar',
    thanks: 'Gracias por tus comentarios',
  },
  preChat: {
    start: 'Iniciar conversación',
    required: 'Este campo es obligatorio',
    invalid: 'Revisa este campo',
  },
  attach: 'Adjuntar un archivo',
  emoji: 'Insertar emoji',
  uploading: 'Subiendo… {percent}%',
  uploadFailed: 'No se pudo enviar el archivo',
  error: 'Algo salió mal. Inténtalo de nuevo.',
};

export const i18n = createI18n({ legacy: false, locale: 'en', fallbackLocale: 'en', messages: { en: compile(en), es: compile(es) } as never });

// The messages the loader (host page) and the app (iframe) exchange over postMessage. Both sides
// send with the other's exact origin and drop anything whose origin or source is not the other.

/** What `widgetSession` answers, as the loader hands it to the app. */
export interface WidgetSession {
  visitorToken: string;
  contact: { id: string; name: string; email: string | null; phone: string | null };
  config: {
    inboxName: string;
    locale: 'EN' | 'ES';
    widgetColor: string;
    replyTime: 'in_a_few_minutes' | 'in_a_few_hours' | 'in_a_day';
    agentsOnline: boolean;
    allowMessagesAfterResolved: boolean;
    csat: { enabled: boolean; display: string; message: string };
    preChatForm: { enabled: boolean; message: string; fields: PreChatField[] };
  };
  conversation: { id: string; status: string; canReply: boolean } | null;
}

export interface PreChatField {
  name: string;
  type: string;
  label: string;
  placeholder: string;
  required: boolean;
  regex: string;
}

export type WidgetLocale = 'en' | 'es';

/** The host page the visitor is on (VisitorPageInput): rules and campaigns look at it. */
export interface VisitorPage {
  url: string;
  referrer: string | null;
  timeOnPage: number;
  locale: string;
  browserLanguage: string;
}

/** An ongoing campaign offered to this visitor (`pageViewed`). */
export interface OfferedCampaign {
  id: string;
  message: string;
  sender: { type: string; name: string } | null;
}

/** Loader → app. */
export type HostToApp =
  | { type: 'charla:session'; session: WidgetSession; locale: WidgetLocale; page: VisitorPage }
  | { type: 'charla:locale'; locale: WidgetLocale }
  | { type: 'charla:campaign'; campaign: OfferedCampaign }
  | { type: 'charla:visibility'; open: boolean };

/** App → loader. */
export type AppToHost =
  | { type: 'charla:loaded' }
  | { type: 'charla:close' }
  | { type: 'charla:message'; message: { id: string; content: string; messageType: string; senderName: string } }
  | { type: 'charla:error'; code: string };

const TYPES = new Set(['charla:session', 'charla:locale', 'charla:campaign', 'charla:visibility', 'charla:loaded', 'charla:close', 'charla:message', 'charla:error']);

/** Whether `data` looks like one of ours (the origin has been checked already). */
export function isProtocolMessage<T extends HostToApp | AppToHost>(data: unknown): data is T {
  return typeof data === 'object' && data !== null && TYPES.has((data as { type?: unknown }).type as string);
}

/** The parameter names of the app page's URL. */
export const APP_PARAMS = { websiteToken: 'website_token', hostOrigin: 'host_origin' } as const;

// The visitor API as the app uses it: queries and mutations over HTTP, widget events over
// graphql-ws. One instance per visitor token; a new session (setUser, reset) makes a new one.
import { openLiveSocket, type LiveSocket } from './live-socket.ts';

export interface VisitorAttachment {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
  url: string;
}

export interface VisitorMessage {
  id: string;
  attachments: VisitorAttachment[];
  messageType: 'INCOMING' | 'OUTGOING' | 'TEMPLATE';
  contentType: 'TEXT' | 'INPUT_EMAIL' | 'INPUT_CSAT' | 'INPUT_SELECT' | 'CARDS' | 'FORM';
  content: string;
  deleted: boolean;
  contentAttributes: { submittedEmail?: string; csat?: { rating: number; feedback: string }; display?: string };
  createdAt: string;
  sender: { type: 'AGENT' | 'CONTACT' | 'BOT'; name: string } | null;
}

export interface VisitorConversation {
  id: string;
  status: 'OPEN' | 'PENDING' | 'SNOOZED' | 'RESOLVED';
  canReply: boolean;
  assignee: { name: string } | null;
}

export interface WidgetEvent {
  type: 'MESSAGE_CREATED' | 'MESSAGE_UPDATED' | 'CONVERSATION_UPDATED' | 'TYPING' | 'PRESENCE';
  message: VisitorMessage | null;
  conversation: VisitorConversation | null;
  typing: boolean | null;
  agentsOnline: boolean | null;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    /** The input an `input/invalid` error names (`values.email`). */
    readonly field?: string,
  ) {
    super(code);
  }
}

const MESSAGE = 'id messageType contentType content deleted contentAttributes createdAt sender{type name} attachments{id fileName contentType size url}';
const CONVERSATION = 'id status canReply assignee{name}';

export const OPERATIONS = {
  conversation: `{visitorConversation{${CONVERSATION}}}`,
  messages: `query($before:ID){visitorMessages(before:$before,first:20){edges{node{${MESSAGE}}} pageInfo{hasPreviousPage}}}`,
  send: `mutation($content:String!,$files:[ID!],$campaignId:ID,$page:VisitorPageInput){sendVisitorMessage(content:$content,attachmentIds:$files,campaignId:$campaignId,page:$page){${MESSAGE}}}`,
  startNew: `mutation($content:String!,$files:[ID!],$campaignId:ID,$page:VisitorPageInput){startNewConversation(content:$content,attachmentIds:$files,campaignId:$campaignId,page:$page){${MESSAGE}}}`,
  submitEmail: `mutation($id:ID!,$email:String!){submitEmail(messageId:$id,email:$email){${MESSAGE}}}`,
  submitCsat: `mutation($id:ID!,$rating:Int!,$feedback:String){submitCsat(messageId:$id,rating:$rating,feedback:$feedback){${MESSAGE}}}`,
  transcript: 'mutation{requestTranscript}',
  preChat: 'mutation($values:JSON!){submitPreChatForm(values:$values){id name email phone}}',
  typing: 'mutation($on:Boolean!){visitorTyping(on:$on)}',
  events: `subscription{widgetEvents{type typing agentsOnline message{${MESSAGE}} conversation{${CONVERSATION}}}}`,
} as const;

const endpoint = new URL('../../graphql', location.href);

export interface VisitorApi {
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** POST /uploads with progress (0–1); resolves with the stored attachment. */
  upload(file: File, progress: (done: number) => void): Promise<VisitorAttachment>;
  /** An attachment as a blob: URL (downloads need the visitor's token, which an <img> cannot send). */
  download(url: string): Promise<string>;
  /** Widget events; `onConnected(again)` runs on every (re)connection of the socket. */
  listen(handlers: { event(event: WidgetEvent): void; connected(again: boolean): void; disconnected(): void }): void;
  close(): void;
}

export function createVisitorApi(token: string): VisitorApi {
  let socket: LiveSocket | undefined;
  return {
    async request<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const result = (await response.json()) as { data?: T; errors?: Array<{ extensions?: { code?: string; details?: { field?: string } } }> };
      const error = result.errors?.[0]?.extensions;
      if (result.errors?.length || !result.data) throw new ApiError(error?.code ?? 'http/failed', error?.details?.field);
      return result.data;
    },
    upload(file, progress) {
      return new Promise((resolve, reject) => {
        const request = new XMLHttpRequest();
        request.open('POST', new URL('../../uploads', location.href));
        request.setRequestHeader('authorization', `Bearer ${token}`);
        request.upload.onprogress = (event) => event.lengthComputable && progress(event.loaded / event.total);
        request.onload = () => (request.status === 201 ? resolve(JSON.parse(request.responseText)) : reject(new ApiError(JSON.parse(request.responseText || '{}').error?.code ?? 'upload/failed')));
        request.onerror = () => reject(new ApiError('upload/failed'));
        const form = new FormData();
        form.append('file', file);
        request.send(form);
      });
    },
    async download(url) {
      // Always from this app's own origin, whatever public address the server put in the link.
      const { pathname, search } = new URL(url, location.href);
      const response = await fetch(new URL(pathname + search, location.origin), { headers: { authorization: `Bearer ${token}` } });
      if (!response.ok) throw new ApiError('attachment/unavailable');
      return URL.createObjectURL(await response.blob());
    },
    listen(handlers) {
      const url = new URL(endpoint);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      socket = openLiveSocket<{ widgetEvents: WidgetEvent }>(url.href, { authorization: `Bearer ${token}` }, OPERATIONS.events, {
        next: (data) => handlers.event(data.widgetEvents),
        connected: handlers.connected,
        disconnected: handlers.disconnected,
      });
    },
    close() {
      socket?.close();
    },
  };
}

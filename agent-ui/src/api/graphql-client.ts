// The console's one way to the server: queries and mutations over HTTP, subscriptions over
// graphql-ws on the same /graphql path, both with the agent's bearer token.
import { createClient, type Client } from 'graphql-ws';
import { ref } from 'vue';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message = code,
    /** What the server added (`rules/invalid`: `{ errors: [{ path, message }] }`). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const endpoint = new URL('/graphql', location.href);

let token: string | null = null;

/** False while the live connection is down (the console says it is reconnecting). */
export const live = ref(true);
/** How many times the current socket connected (a subscription tells a reconnection by it). */
let connections = 0;
let socket: Client | null = null;
let onUnauthenticated: () => void = () => {};

export function setToken(next: string | null): void {
  if (next === token) return;
  token = next;
  void socket?.dispose();
  socket = null;
  connections = 0;
  live.value = true;
}

/** Called when the server says the token is no longer valid (signed out elsewhere, expired). */
export function whenUnauthenticated(handler: () => void): void {
  onUnauthenticated = handler;
}

export async function request<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError('http/failed');
  }
  let result: { data?: T; errors?: Array<{ message: string; extensions?: { code?: string; details?: Record<string, unknown> } }> };
  try {
    result = await response.json();
  } catch {
    throw new ApiError('http/failed');
  }
  const error = result.errors?.[0];
  if (error || !result.data) {
    const code = error?.extensions?.code ?? 'http/failed';
    if (code === 'auth/unauthenticated') onUnauthenticated();
    throw new ApiError(code, error?.message, error?.extensions?.details ?? {});
  }
  return result.data;
}

function liveSocket(): Client {
  if (!socket) {
    const url = new URL(endpoint);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const authorization = token ? `Bearer ${token}` : undefined;
    socket = createClient({
      url: url.href,
      connectionParams: () => (authorization ? { authorization } : {}),
      retryAttempts: Infinity,
      shouldRetry: () => true,
      lazy: true,
      // Retries quickly at first, then every few seconds at most.
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** retries, 5_000))),
      on: {
        connected: () => {
          connections += 1;
          live.value = true;
        },
        // 1000 is graphql-ws closing an idle socket on purpose (lazy); anything else is a drop.
        closed: (event) => {
          if (socket === current && (event as { code?: number } | undefined)?.code !== 1000) live.value = false;
        },
      },
    });
    const current = socket;
  }
  return socket;
}

export interface SubscriptionHandlers<T> {
  next(data: T): void;
  /** The socket (re)connected: state may have been missed while it was down. */
  reconnected?(): void;
}

/** Subscribes until the returned function is called. */
export function subscribe<T>(query: string, variables: Record<string, unknown>, handlers: SubscriptionHandlers<T>): () => void {
  const client = liveSocket();
  // Connections up to this one (at least the first) were before or at the start of this
  // subscription; any later one is a reconnection after which events may have been missed.
  const before = Math.max(connections, 1);
  const offConnected = client.on('connected', () => {
    if (connections > before) handlers.reconnected?.();
  });
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (result.data) handlers.next(result.data as T);
      },
      // Connection trouble is retried by graphql-ws itself; an error here is the server refusing
      // the subscription, most likely because the session ended: find out (request() signs out).
      error: () => void request('{ me { id } }').catch(() => {}),
      complete: () => {},
    },
  );
  return () => {
    offConnected();
    unsubscribe();
  };
}

/** A file behind the API's authorization (attachments), as a blob URL the browser can open. */
export async function authorizedObjectUrl(url: string): Promise<string> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!response.ok) throw new ApiError(response.status === 403 ? 'auth/forbidden' : 'http/failed');
  return URL.createObjectURL(await response.blob());
}

export interface UploadedFile {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
}

/** POST /uploads (multipart) with progress, as `sendMessage`'s attachmentIds expect. */
export function uploadFile(file: File, conversationId: string, onProgress: (fraction: number) => void): Promise<UploadedFile> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', new URL('/uploads', location.href));
    if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      const body = xhr.response as (UploadedFile & { error?: { code?: string } }) | null;
      if (xhr.status === 201 && body?.id) resolve(body);
      else reject(new ApiError(body?.error?.code ?? (xhr.status === 413 ? 'attachment/too_large' : 'http/failed')));
    };
    xhr.onerror = () => reject(new ApiError('http/failed'));
    const form = new FormData();
    form.set('conversationId', conversationId);
    form.set('file', file, file.name);
    xhr.send(form);
  });
}

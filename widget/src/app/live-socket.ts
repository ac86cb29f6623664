// A minimal graphql-transport-ws client for the app's one subscription: connects, subscribes,
// answers pings, notices a dead connection by its own pings, and reconnects with back-off.
// (The graphql-ws client library costs more of the 60 KB budget than the whole of this.)

export interface LiveSocketHandlers<T> {
  next(data: T): void;
  /** After every connection_ack; `again` is false only for the first. */
  connected(again: boolean): void;
  disconnected(): void;
}

export interface LiveSocket {
  close(): void;
}

const PING_EVERY_MS = 10_000;
const PONG_WITHIN_MS = 5_000;

export function openLiveSocket<T>(url: string, connectionParams: Record<string, unknown>, query: string, handlers: LiveSocketHandlers<T>): LiveSocket {
  let socket: WebSocket | undefined;
  let closed = false;
  let connections = 0;
  let attempts = 0;
  let timers: Array<ReturnType<typeof setTimeout>> = [];
  const clearTimers = (): void => {
    for (const timer of timers) clearTimeout(timer);
    timers = [];
  };

  const connect = (): void => {
    if (closed) return;
    const current = new WebSocket(url, 'graphql-transport-ws');
    socket = current;
    let acknowledged = false;
    const send = (message: Record<string, unknown>): void => {
      if (current.readyState === WebSocket.OPEN) current.send(JSON.stringify(message));
    };
    const ping = (): void => {
      send({ type: 'ping' });
      timers.push(setTimeout(() => current.close(4408, 'no pong'), PONG_WITHIN_MS));
    };
    current.onopen = () => send({ type: 'connection_init', payload: connectionParams });
    current.onmessage = (event: MessageEvent<string>) => {
      let message: { type?: string; id?: string; payload?: { data?: T } };
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      switch (message.type) {
        case 'connection_ack':
          acknowledged = true;
          attempts = 0;
          send({ id: '1', type: 'subscribe', payload: { query } });
          handlers.connected(connections++ > 0);
          timers.push(setTimeout(ping, PING_EVERY_MS));
          break;
        case 'ping':
          send({ type: 'pong' });
          break;
        case 'pong':
          clearTimers();
          timers.push(setTimeout(ping, PING_EVERY_MS));
          break;
        case 'next':
          if (message.payload?.data) handlers.next(message.payload.data);
          break;
      }
    };
    current.onclose = (event: CloseEvent) => {
      clearTimers();
      if (socket !== current) return;
      socket = undefined;
      if (acknowledged) handlers.disconnected();
      // 4403: the token is no longer valid; a new session brings a new socket.
      if (closed || event.code === 4403) return;
      const wait = Math.min(500 * 2 ** attempts++, 10_000);
      timers.push(setTimeout(connect, wait));
    };
  };
  connect();

  return {
    close() {
      closed = true;
      clearTimers();
      socket?.close(1000, 'done');
    },
  };
}

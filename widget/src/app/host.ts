// The app's half of the loader protocol: messages go only to the host page's origin (named in the
// iframe's URL by the loader) and only messages from that origin and the parent window count.
import { APP_PARAMS, isProtocolMessage, type AppToHost, type HostToApp } from '../protocol.ts';

const hostOrigin = new URLSearchParams(location.search).get(APP_PARAMS.hostOrigin) ?? '';

export function postToHost(message: AppToHost): void {
  // Not framed, or framed without a real origin: nobody to talk to.
  if (window.parent === window || !/^https?:\/\//.test(hostOrigin)) return;
  window.parent.postMessage(message, hostOrigin);
}

export function onHostMessage(handle: (message: HostToApp) => void): void {
  window.addEventListener('message', (event: MessageEvent) => {
    if (event.origin !== hostOrigin || event.source !== window.parent || !isProtocolMessage<HostToApp>(event.data)) return;
    handle(event.data);
  });
}

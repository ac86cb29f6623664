// The loader host pages include (`<script src=".../widget/sdk.js" data-website-token="…">`): asks
// Charla whether this page may show the widget, draws the launcher in a shadow root, opens the chat
// app in an iframe and offers `window.$charla`. No framework: it has to stay a few kilobytes.
import { APP_PARAMS, isProtocolMessage, type AppToHost, type HostToApp, type OfferedCampaign, type VisitorPage, type WidgetLocale, type WidgetSession } from '../protocol.ts';
import { launcherStyles } from './styles.ts';

interface CharlaSettings {
  websiteToken?: string;
  position?: 'left' | 'right';
  locale?: string;
  /** Use the browser's language when it is one the widget speaks. */
  useBrowserLanguage?: boolean;
  hideMessageBubble?: boolean;
  launcherTitle?: string;
}

interface UserAttributes {
  email?: string;
  name?: string;
  avatarUrl?: string;
  phone?: string;
  identifierHash?: string;
}

declare global {
  interface Window {
    charlaSettings?: CharlaSettings;
    $charla?: CharlaApi;
  }
}

type Toggle = boolean | 'open' | 'close';

interface CharlaApi {
  readonly isOpen: boolean;
  toggle(open?: Toggle): void;
  toggleBubbleVisibility(visibility?: 'show' | 'hide'): void;
  setUser(identifier: string, attributes?: UserAttributes): Promise<void>;
  setLocale(locale: string): void;
  reset(): Promise<void>;
  setCustomAttributes(attributes: Record<string, string | number | boolean | null>): Promise<void>;
  deleteCustomAttribute(key: string): Promise<void>;
  setLabel(label: string): Promise<void>;
  removeLabel(label: string): Promise<void>;
}

const SESSION = `mutation($w:String!,$v:String,$i:VisitorIdentityInput){widgetSession(websiteToken:$w,visitorToken:$v,identity:$i){visitorToken contact{id name email phone} config{inboxName locale widgetColor replyTime agentsOnline allowMessagesAfterResolved csat{enabled display message} preChatForm{enabled message fields{name type label placeholder required regex}}} conversation{id status canReply}}}`;

const PAGE_VIEWED = `mutation($p:VisitorPageInput!){pageViewed(page:$p){campaign{id message sender{type name}} nextCheckInSeconds}}`;

const LOCALES: WidgetLocale[] = ['en', 'es'];

function start(): void {
  if (window.$charla) return; // the snippet pasted twice
  const script = document.currentScript as HTMLScriptElement | null;
  const settings: CharlaSettings = window.charlaSettings ?? {};
  const websiteToken = script?.dataset.websiteToken ?? settings.websiteToken;
  if (!script || !websiteToken) return;
  const base = script.src.replace(/\/widget\/sdk\.js(\?.*)?$/, '');
  const charlaOrigin = new URL(base).origin;
  const storageKey = `charla:${websiteToken}:visitorToken`;

  let session: WidgetSession | undefined;
  let open = false;
  let unread = 0;
  let bubbleVisible = !settings.hideMessageBubble;
  let chosenLocale = pickLocale(settings.locale) ?? (settings.useBrowserLanguage ? pickLocale(navigator.language) : undefined);
  let appLoaded = false;
  let host: HTMLElement | undefined;
  let launcher: HTMLButtonElement;
  let badge: HTMLElement;
  let launcherName = '';
  let frame: HTMLIFrameElement;

  const emit = (name: string, detail?: unknown): void => {
    window.dispatchEvent(new CustomEvent(`charla:${name}`, { detail }));
  };
  const fail = (code: string): void => emit('error', { code });

  const currentPage = (): VisitorPage => ({
    url: location.href,
    referrer: document.referrer || null,
    timeOnPage: Math.floor(performance.now() / 1000),
    locale: locale(),
    browserLanguage: navigator.language,
  });
  const locale = (): WidgetLocale => chosenLocale ?? (session?.config.locale === 'ES' ? 'es' : 'en');

  const post = (message: HostToApp): void => {
    if (appLoaded && frame.contentWindow) frame.contentWindow.postMessage(message, charlaOrigin);
  };
  const sendSession = (): void => {
    if (session) post({ type: 'charla:session', session, locale: locale(), page: currentPage() });
  };

  const storedToken = (): string | undefined => {
    try {
      return localStorage.getItem(storageKey) ?? undefined;
    } catch {
      return undefined; // storage blocked: a session per page load
    }
  };
  const storeToken = (token: string | undefined): void => {
    try {
      if (token) localStorage.setItem(storageKey, token);
      else localStorage.removeItem(storageKey);
    } catch {
      // storage blocked
    }
  };

  async function request<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
    const result = (await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ query, variables }),
    })
      .then((response) => response.json())
      .catch(() => ({ errors: [{ extensions: { code: 'widget/unreachable' } }] }))) as { data?: T; errors?: Array<{ extensions?: { code?: string } }> };
    if (!result.data || result.errors) throw new Error(result.errors?.[0]?.extensions?.code ?? 'widget/request_failed');
    return result.data;
  }

  async function fetchSession(identity?: Record<string, unknown>): Promise<WidgetSession> {
    const { widgetSession } = await request<{ widgetSession: WidgetSession }>(SESSION, { w: websiteToken, v: storedToken(), i: identity });
    storeToken(widgetSession.visitorToken);
    return widgetSession;
  }

  // Campaigns: asked for while the visitor has no conversation, shown above the launcher.
  let campaign: OfferedCampaign | undefined;
  let campaignBox: HTMLElement;
  let campaignTimer: ReturnType<typeof setTimeout> | undefined;
  async function checkCampaign(): Promise<void> {
    clearTimeout(campaignTimer);
    if (!session || session.conversation || campaign) return;
    const { pageViewed } = await request<{ pageViewed: { campaign: OfferedCampaign | null; nextCheckInSeconds: number | null } }>(PAGE_VIEWED, { p: currentPage() }, session.visitorToken);
    if (pageViewed.campaign) {
      campaign = pageViewed.campaign;
      campaignBox.querySelector('.sender')!.textContent = campaign.sender?.name ?? '';
      campaignBox.querySelector('.text')!.textContent = campaign.message;
      sendCampaign();
      render();
    } else if (pageViewed.nextCheckInSeconds !== null) {
      campaignTimer = setTimeout(() => void checkCampaign().catch(() => {}), pageViewed.nextCheckInSeconds * 1000);
    }
  }
  const sendCampaign = (): void => {
    if (campaign) post({ type: 'charla:campaign', campaign });
  };
  function dismissCampaign(): void {
    campaignBox.hidden = true;
    if (session) void request('mutation{dismissCampaigns}', {}, session.visitorToken).catch(() => {});
  }

  function render(): void {
    if (!host) return;
    host.classList.toggle('open', open);
    launcher.hidden = !bubbleVisible && !open;
    launcher.setAttribute('aria-expanded', String(open));
    badge.textContent = unread > 9 ? '9+' : String(unread);
    badge.hidden = open || unread === 0;
    // The name says what the badge shows, so a screen reader hears the count too.
    const es = locale() === 'es';
    const count = badge.hidden ? '' : `, ${unread} ${unread === 1 ? (es ? 'mensaje sin leer' : 'unread message') : es ? 'mensajes sin leer' : 'unread messages'}`;
    launcher.setAttribute('aria-label', launcherName + count);
    frame.parentElement!.hidden = !open;
    campaignBox.hidden = open || !campaign || campaignBox.dataset.done === '1' || launcher.hidden;
    if (open && campaign) campaignBox.dataset.done = '1';
  }

  function setOpen(next: boolean): void {
    if (!host || next === open) return;
    open = next;
    if (open) unread = 0;
    render();
    post({ type: 'charla:visibility', open });
    emit(open ? 'opened' : 'closed');
    if (!open) launcher.focus();
  }

  function draw(current: WidgetSession): void {
    const element = document.createElement('charla-widget');
    const root = element.attachShadow({ mode: 'open' });
    const css = launcherStyles(current.config.widgetColor, settings.position === 'left' ? 'left' : 'right');
    // A constructed sheet is CSSOM, which a host page's CSP (style-src) does not block; a <style>
    // element is the fallback for browsers without one.
    let style: HTMLStyleElement | undefined;
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [sheet];
    } catch {
      style = document.createElement('style');
      style.textContent = css;
    }
    const box = document.createElement('div');
    box.className = 'frame';
    box.hidden = true;
    frame = document.createElement('iframe');
    frame.title = current.config.inboxName;
    frame.setAttribute('allow', 'clipboard-write');
    const url = new URL(`${base}/widget/app/`);
    url.searchParams.set(APP_PARAMS.websiteToken, websiteToken!);
    url.searchParams.set(APP_PARAMS.hostOrigin, location.origin);
    frame.src = url.href;
    box.append(frame);
    launcher = document.createElement('button');
    launcher.className = 'launcher';
    launcher.type = 'button';
    launcherName = settings.launcherTitle ?? current.config.inboxName;
    launcher.setAttribute('aria-label', launcherName);
    launcher.innerHTML =
      '<svg class="chat" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>' +
      '<svg class="close" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg><span class="badge" aria-live="polite"></span>';
    badge = launcher.querySelector('.badge')!;
    launcher.addEventListener('click', () => setOpen(!open));
    campaignBox = document.createElement('div');
    campaignBox.className = 'campaign';
    campaignBox.hidden = true;
    campaignBox.innerHTML = '<button type="button" class="campaign-open"><span class="sender"></span><span class="text"></span></button><button type="button" class="campaign-close">✕</button>';
    campaignBox.lastElementChild!.setAttribute('aria-label', locale() === 'es' ? 'Cerrar' : 'Close');
    campaignBox.querySelector('.campaign-open')!.addEventListener('click', () => setOpen(true));
    campaignBox.querySelector('.campaign-close')!.addEventListener('click', () => {
      campaignBox.dataset.done = '1';
      dismissCampaign();
    });
    root.append(...(style ? [style] : []), box, campaignBox, launcher);
    // Inline !important beats any host rule that would hide or move the element itself.
    element.setAttribute('style', 'all:initial!important;display:block!important');
    host = element;
    document.body.append(element);
    render();
  }

  window.addEventListener('message', (event: MessageEvent) => {
    if (!host || event.origin !== charlaOrigin || event.source !== frame.contentWindow || !isProtocolMessage<AppToHost>(event.data)) return;
    const message = event.data;
    switch (message.type) {
      case 'charla:loaded':
        appLoaded = true;
        sendSession();
        sendCampaign();
        post({ type: 'charla:visibility', open });
        break;
      case 'charla:close':
        setOpen(false);
        break;
      case 'charla:message':
        if (!open) unread += 1;
        render();
        emit('on-message', message.message);
        break;
      case 'charla:error':
        fail(message.code);
        break;
    }
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && open) setOpen(false);
  });

  let ready: Promise<void> = fetchSession().then(
    async (answer) => {
      session = answer;
      if (!document.body) await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
      draw(answer);
      emit('ready');
      void checkCampaign().catch(() => {});
    },
    (error: Error) => fail(error.message),
  );
  /** Runs after the first session (and any change before) so calls made early still apply. */
  const then = (step: () => Promise<void> | void): Promise<void> => (ready = ready.then(step).catch((error: Error) => fail(error.message)));
  /** A visitor operation for the SDK, after the session; failures become charla:error. */
  const visitorCall = (query: string, variables: Record<string, unknown>): Promise<void> =>
    then(async () => {
      if (session) await request(query, variables, session.visitorToken);
    });

  window.$charla = {
    get isOpen() {
      return open;
    },
    toggle(next?: Toggle) {
      void then(() => setOpen(next === undefined ? !open : next === true || next === 'open'));
    },
    toggleBubbleVisibility(visibility?: 'show' | 'hide') {
      void then(() => {
        bubbleVisible = visibility === undefined ? !bubbleVisible : visibility === 'show';
        render();
      });
    },
    setUser(identifier: string, attributes: UserAttributes = {}) {
      return then(async () => {
        if (!host) return;
        session = await fetchSession({ identifier, ...attributes });
        sendSession();
      });
    },
    setLocale(next: string) {
      const picked = pickLocale(next);
      if (!picked) return fail('sdk/locale_not_supported');
      chosenLocale = picked;
      post({ type: 'charla:locale', locale: picked });
    },
    reset() {
      return then(async () => {
        if (!host) return;
        storeToken(undefined);
        setOpen(false);
        unread = 0;
        session = await fetchSession();
        sendSession();
        render();
      });
    },
    setCustomAttributes: (attributes) => visitorCall('mutation($a:JSON!){setVisitorCustomAttributes(attributes:$a){id}}', { a: attributes }),
    deleteCustomAttribute: (key) => visitorCall('mutation($k:String!){deleteVisitorCustomAttribute(key:$k){id}}', { k: key }),
    // Labels go on the visitor's current conversation; before there is one they do nothing.
    setLabel: (label) => visitorCall('mutation($l:String!){addVisitorLabel(label:$l)}', { l: label }),
    removeLabel: (label) => visitorCall('mutation($l:String!){removeVisitorLabel(label:$l)}', { l: label }),
  };
}

function pickLocale(value: string | undefined): WidgetLocale | undefined {
  const language = value?.toLowerCase().split(/[-_]/)[0];
  return LOCALES.find((locale) => locale === language);
}

start();

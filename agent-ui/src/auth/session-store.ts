// The signed-in agent: token kept in localStorage so a reload keeps the session; locale and
// availability come from the server.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { request, setToken, whenUnauthenticated } from '../api/graphql-client.ts';
import { setLocale } from '../i18n/index.ts';

export type Availability = 'ONLINE' | 'BUSY' | 'OFFLINE';

export interface Agent {
  id: string;
  name: string;
  email: string;
  role: 'ADMINISTRATOR' | 'AGENT';
  availability: Availability;
  locale: 'EN' | 'ES';
  timezone: string;
}

const TOKEN_KEY = 'charla.console.token';
const AGENT = 'id name email role availability locale timezone';

export const useSession = defineStore('session', () => {
  const token = ref<string | null>(localStorage.getItem(TOKEN_KEY));
  const agent = ref<Agent | null>(null);
  const signedIn = computed(() => agent.value !== null);
  setToken(token.value);

  function adopt(nextToken: string | null, nextAgent: Agent | null): void {
    token.value = nextToken;
    agent.value = nextAgent;
    setToken(nextToken);
    if (nextToken) localStorage.setItem(TOKEN_KEY, nextToken);
    else localStorage.removeItem(TOKEN_KEY);
    if (nextAgent) setLocale(nextAgent.locale === 'ES' ? 'es' : 'en');
  }

  whenUnauthenticated(() => adopt(null, null));

  /** Loads the agent behind a stored token; false when there is none or it is no longer valid. */
  async function restore(): Promise<boolean> {
    if (agent.value) return true;
    if (!token.value) return false;
    try {
      const data = await request<{ me: Agent }>(`{ me { ${AGENT} } }`);
      adopt(token.value, data.me);
      return true;
    } catch {
      return agent.value !== null;
    }
  }

  async function signIn(email: string, password: string): Promise<void> {
    const data = await request<{ login: { token: string; agent: Agent } }>(
      `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token agent { ${AGENT} } } }`,
      { email, password },
    );
    adopt(data.login.token, data.login.agent);
  }

  async function signOut(): Promise<void> {
    try {
      await request('mutation { logout }');
    } finally {
      adopt(null, null);
    }
  }

  async function setAvailability(status: Availability): Promise<void> {
    const data = await request<{ setAvailability: Agent }>(`mutation($status: Availability!) { setAvailability(status: $status) { ${AGENT} } }`, { status });
    agent.value = data.setAvailability;
  }

  return { token, agent, signedIn, restore, signIn, signOut, setAvailability };
});

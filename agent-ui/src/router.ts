// History-mode routes under /app/ (the server answers every /app/… path with index.html).
import { createRouter, createWebHistory } from 'vue-router';
import { useSession } from './auth/session-store.ts';

const ConversationsView = () => import('./conversations/ConversationsView.vue');
const ContactsView = () => import('./contacts/ContactsView.vue');

export const router = createRouter({
  history: createWebHistory('/app/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('./auth/SignInView.vue'), meta: { public: true } },
    {
      path: '/',
      component: () => import('./layout/AppShell.vue'),
      children: [
        { path: '', redirect: '/conversations' },
        { path: 'conversations', name: 'conversations', component: ConversationsView },
        { path: 'conversations/:displayId(\\d+)', name: 'conversation', component: ConversationsView },
        { path: 'contacts', name: 'contacts', component: ContactsView },
        { path: 'contacts/:contactId', name: 'contact', component: ContactsView },
        { path: 'reports', name: 'reports', component: () => import('./reports/ReportsView.vue') },
        { path: 'settings/:section?', name: 'settings', component: () => import('./settings/SettingsView.vue'), meta: { administrators: true } },
      ],
    },
    { path: '/:rest(.*)*', redirect: '/conversations' },
  ],
});

router.beforeEach(async (to) => {
  const session = useSession();
  const signedIn = await session.restore();
  if (to.meta.public) return signedIn ? { path: typeof to.query.next === 'string' ? to.query.next : '/conversations' } : true;
  if (!signedIn) return { name: 'login', query: to.fullPath === '/conversations' ? {} : { next: to.fullPath } };
  if (to.meta.administrators && session.agent?.role !== 'ADMINISTRATOR') return { path: '/conversations' };
  return true;
});

// History-mode routes under /app/ (the server answers every /app/… path with index.html).
import { createRouter, createWebHistory } from 'vue-router';
import { useSession } from './auth/session-store.ts';

export const router = createRouter({
  history: createWebHistory('/app/'),
  routes: [
    { path: '/', redirect: '/conversations' },
    { path: '/login', name: 'login', component: () => import('./auth/SignInView.vue'), meta: { public: true } },
    { path: '/conversations', name: 'conversations', component: () => import('./conversations/ConversationsView.vue') },
    { path: '/conversations/:displayId(\\d+)', name: 'conversation', component: () => import('./conversations/ConversationsView.vue') },
    { path: '/:rest(.*)*', redirect: '/conversations' },
  ],
});

router.beforeEach(async (to) => {
  const session = useSession();
  const signedIn = await session.restore();
  if (to.meta.public) return signedIn ? { path: typeof to.query.next === 'string' ? to.query.next : '/conversations' } : true;
  return signedIn ? true : { name: 'login', query: to.fullPath === '/conversations' ? {} : { next: to.fullPath } };
});

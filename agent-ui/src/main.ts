// The agent console: router, stores and translations around the App shell.
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { i18n } from './i18n/index.ts';
import { router } from './router.ts';
import './base.css';

createApp(App).use(createPinia()).use(i18n).use(router).mount('#app');

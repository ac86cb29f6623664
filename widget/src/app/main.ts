// The chat app inside the widget's iframe: waits for the loader to hand over the session.
import { createApp } from 'vue';
import App from './App.vue';
import { i18n } from './i18n.ts';
import './base.css';

createApp(App).use(i18n).mount('#app');

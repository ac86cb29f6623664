// Builds the chat app shown inside the widget's iframe (served under /widget/app/).
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('src/app', import.meta.url)),
  // Relative asset URLs: the server mounts the app under /widget/app/.
  base: './',
  plugins: [vue()],
  define: {
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    // petite-vue-i18n (vue-i18n's lite build: t, tm, rt; no date or number formats) without its
    // message compiler: i18n.ts turns messages into functions itself.
    __VUE_I18N_FULL_INSTALL__: 'false',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
    __INTLIFY_JIT_COMPILATION__: 'true',
    __INTLIFY_DROP_MESSAGE_COMPILER__: 'true',
  },
  build: {
    outDir: fileURLToPath(new URL('dist/app', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    minify: 'terser',
    terserOptions: { module: true, toplevel: true, compress: { passes: 3 } },
    // No inline polyfill script: the page's CSP allows only scripts from itself.
    modulePreload: { polyfill: false },
  },
});

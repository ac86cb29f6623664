// Builds the loader host pages include: one small classic script, no framework, no chunks.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: fileURLToPath(new URL('dist', import.meta.url)),
    emptyOutDir: false,
    target: 'es2019',
    minify: true,
    lib: {
      entry: fileURLToPath(new URL('src/sdk/index.ts', import.meta.url)),
      name: 'charlaSdk',
      formats: ['iife'],
      fileName: () => 'sdk.js',
    },
  },
});

// The fault tests (`npm run test:faults`): real process deaths and outages, kept out of `npm test`
// because each one starts, kills and restarts servers and takes tens of seconds.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['tests/faults/**/*.test.ts'],
    exclude: [],
    // They start their own server processes and need no built UI.
    globalSetup: [],
    testTimeout: 240_000,
    hookTimeout: 60_000,
    // One at a time: each runs a loaded server, and outages are judged by waiting on it.
    fileParallelism: false,
    maxWorkers: 1,
  },
});

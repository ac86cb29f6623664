import { createRequire } from 'node:module';
import { configDefaults, defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// One test tree for the whole repository: tests/<package>/… mirrors the source layout.
export default defineConfig({
  resolve: {
    // graphql ships a CommonJS and an ES build. Node loads the CommonJS one for everybody (it has
    // no "exports" map); Vite would give our sources the ES one while the dependencies Node loads
    // get CommonJS, and a schema from one cannot be used by the other. Use the one Node uses.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    // The fault tests kill and pause real processes: `npm run test:faults` (vitest.faults.config.ts).
    exclude: [...configDefaults.exclude, 'tests/faults/**'],
    // Builds widget/dist and agent-ui/dist when it is missing or stale (the server serves it; browser tests load it).
    globalSetup: ['tests/support/widget-build.ts', 'tests/support/agent-ui-build.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});

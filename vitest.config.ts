import { defineConfig } from 'vitest/config';

// One test tree for the whole repository: tests/<package>/… mirrors the source layout.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});

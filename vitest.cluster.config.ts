import { defineConfig } from 'vitest/config';

/** `npm run test:cluster`: only the cluster scenario (test/cluster), which `npm test` leaves out. Settings as vitest.config.ts. */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});

import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/** `npm run test:cluster`: only the cluster scenario (test/cluster), which `npm test` leaves out. */
export default mergeConfig(base, defineConfig({ test: { include: ['test/cluster/**/*.test.ts'], exclude: [] } }));

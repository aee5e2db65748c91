import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The cluster scenario (three nats-server nodes, three gateways, 30 accounts) is its own run: npm run test:cluster.
    exclude: ['**/node_modules/**', 'test/cluster/**'],
    setupFiles: ['test/setup.ts'],
    // Scenario suites start real nats-server and simulator processes; forks keep
    // each file's sockets and timers isolated from the others.
    pool: 'forks',
    // One file at a time: the scenario suites run Baileys, the simulator and nats-server
    // on a 2-core machine, and their keepalive margins are real time. Sharing the CPU
    // with another suite would test the machine's load, not the gateway.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
});

/**
 * The commands that run processes: `start` (the gateway, as `npm start`), `simulator`
 * and `demo`, each as a child process against a real nats-server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWaClient } from '../../src/client/index.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { startCli } from '../support/gateway-child.js';
import { tempDir } from '../support/temp-dir.js';
import { until } from '../support/waiters.js';
import { writeCredentials } from '../support/credentials.js';

/** The "Done when": `wa-connd demo --duration 30s` ends with 0 lost and 0 duplicated. */
const DEMO_SECONDS = 30;

describe('wa-connd start, simulator and demo', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => nats?.stop());

  describe('start', () => {
    let sim: RunningSimulator;
    let dir: { path: string; remove(): Promise<void> };
    beforeAll(async () => {
      sim = await startSimulator();
      dir = await tempDir('wa-connd-start-');
      await writeCredentials(dir.path, 'alpha', sim.provisionAccount({ preKeys: 10 }));
    });
    afterAll(async () => {
      await sim?.close();
      await dir?.remove();
    });

    it('runs the gateway from the environment, answers through NATS, and stops cleanly on SIGTERM', async () => {
      const gw = startCli(['start'], {
        NATS_URL: nats.url,
        WA_CONND_DATA_DIR: dir.path,
        WA_CONND_WA_URL: sim.wsUrl,
        WA_CONND_TRUST_ROOT: sim.rootPublicKey,
        WA_CONND_ACCOUNTS: 'alpha',
        WA_CONND_LOG_LEVEL: 'warn',
        WA_CONND_HTTP_PORT: '0',
      });
      const wa = await connectWaClient({ servers: nats.url, timeoutMs: 1_000 });
      try {
        await until(
          'alpha open',
          async () => (await wa.status('alpha').catch(() => null))?.state === 'open',
          20_000,
          100,
        );
      } finally {
        await wa.close();
      }
      gw.child.kill('SIGTERM');
      const r = await gw.exited;
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout + r.stderr).not.toMatch(/"text"\s*:\s*"[^[]/);
    });
  });

  it('simulator prints its ready line, serves its control API, and stops on SIGTERM', async () => {
    const s = startCli([
      'simulator',
      '--ws-port',
      '0',
      '--http-port',
      '0',
      '--seed',
      'cli-test',
      '--log-level',
      'warn',
    ]);
    const [line] = await s.waitFor(/^\{.*\}$/m);
    const ready = JSON.parse(line) as { ws: string; http: string; rootPublicKey: string };
    expect(ready.ws).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\/chat$/);
    const health = (await (await fetch(`${ready.http}/healthz`)).json()) as { ok: boolean };
    expect(health.ok).toBe(true);
    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });

  it(
    `demo --duration ${DEMO_SECONDS}s: the 408 loop absorbed, 0 lost and 0 duplicated, and says so`,
    async () => {
      const d = startCli(['demo', '--duration', `${DEMO_SECONDS}s`], { NATS_URL: nats.url, WA_CONND_HTTP_PORT: '0' });
      const r = await d.exited;
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/messages lost: 0, duplicated: 0 — OK/);
      // Live lines came out while it ran.
      expect(r.stdout.match(/^\[\s*\d+ s\] /gm)?.length ?? 0).toBeGreaterThanOrEqual(3);
      // The unprotected account was cut again and again, and its sends were held and replayed.
      const bare = /demo-bare \(keepalive off\): (\d+) sessions cut by the server/.exec(r.stdout);
      expect(Number(bare?.[1])).toBeGreaterThanOrEqual(3);
      const sends = [
        ...r.stdout.matchAll(
          /sends: (\d+) accepted \(\d+ to a group of \d+\), (\d+) acked, (\d+) held while offline and (\d+) of them replayed, 0 failed, 0 expired/g,
        ),
      ];
      expect(sends).toHaveLength(2);
      // Images went through the loop too, each uploaded once however often it was replayed.
      const images = /(\d+) of the accepted sends were images: (\d+) uploads recorded/.exec(r.stdout);
      expect(Number(images?.[1])).toBeGreaterThan(0);
      expect(images?.[2]).toBe(images?.[1]);
      for (const [, accepted, acked, held, replayed] of sends) {
        expect(Number(accepted)).toBeGreaterThan(20);
        expect(acked).toBe(accepted);
        expect(replayed).toBe(held);
      }
    },
    (DEMO_SECONDS + 60) * 1_000,
  );
});

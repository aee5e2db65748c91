/**
 * What `wa-connd start` does when the outside world is not as it needs it, each as a
 * child process against a real nats-server: a taken HTTP port ends the process with a
 * non-zero exit code and one clear line; a bug is not swallowed; WhatsApp out of reach
 * is its own reason, says so once on stderr, and shows in metrics, status and /readyz.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { connectWaClient } from '../../src/client/index.js';
import { parsePrometheusText, sum } from '../support/prom-text.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { runCli, startCli } from '../support/gateway-child.js';
import { tempDir } from '../support/temp-dir.js';
import { until } from '../support/waiters.js';

/** Failed attempts to see before judging "once, not per retry" (backoff shrunk to ms below). */
const ATTEMPTS = 4;
const UNREACHABLE_DEADLINE_MS = 30_000;
const POLL_MS = 100;

let nats: NatsServer;
let dir: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  nats = await startNatsServer();
  dir = await tempDir('wa-connd-startup-');
});
afterAll(async () => {
  await nats?.stop();
  await dir?.remove();
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

describe('wa-connd start, when it cannot start', () => {
  it('a taken HTTP port: exits with the start-failed code and says which port and what to do', async () => {
    const busy = createServer();
    const port = await listen(busy);
    try {
      const r = await runCli(['start'], {
        NATS_URL: nats.url,
        WA_CONND_DATA_DIR: dir.path,
        WA_CONND_ACCOUNTS: 'alpha',
        WA_CONND_HTTP_PORT: String(port),
        WA_CONND_LOG_LEVEL: 'warn',
      });
      expect(r.code, r.stderr + r.stdout).toBe(EXIT.startFailed);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `could not start: the HTTP port 127\\.0\\.0\\.1:${port} is already in use \\(EADDRINUSE\\).*WA_CONND_HTTP_PORT`,
        ),
      );
      expect(r.stdout + r.stderr).not.toMatch(/kept running/);
    } finally {
      busy.close();
    }
  });

  it('an unhandled rejection (a bug) is not swallowed: logged at fatal, named on stderr, exit 70', async () => {
    // Plants a rejected promise nobody handles, as soon as the gateway has installed its
    // handler (so the gateway's policy is what is tested, not Node's default).
    const plant = [
      'const on = process.on.bind(process);',
      "process.on = (event, listener) => { const r = on(event, listener); if (event === 'unhandledRejection') setImmediate(() => Promise.reject(new Error('planted bug'))); return r; };",
    ].join('');
    const r = await runCli(['start'], {
      NATS_URL: nats.url,
      WA_CONND_DATA_DIR: dir.path,
      WA_CONND_ACCOUNTS: 'alpha',
      WA_CONND_HTTP_PORT: '0',
      WA_CONND_WA_URL: 'ws://127.0.0.1:9/ws/chat',
      WA_CONND_LOG_LEVEL: 'warn',
      NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(plant)}`,
    });
    expect(r.code, r.stderr + r.stdout).toBe(EXIT.internalError);
    expect(r.stderr).toMatch(/^wa-connd: unhandled rejection \(a bug, please report it\): Error: planted bug/m);
    const fatal = r.stdout.split('\n').filter((l) => l.includes('"level":60'));
    expect(
      fatal.some((l) => l.includes('planted bug')),
      r.stdout,
    ).toBe(true);
  });
});

describe('wa-connd start, when WhatsApp cannot be reached at all', () => {
  async function runUnreachable(url: string, causes: RegExp) {
    const config = join(dir.path, `unreachable-${Date.now()}.json`);
    await writeFile(
      config,
      JSON.stringify({
        dataDir: dir.path,
        log: { level: 'info' },
        nats: { url: nats.url, startLocal: false },
        whatsapp: { url },
        http: { port: 0 },
        accounts: [{ id: 'alpha' }],
        // Retries in milliseconds, so several failures happen within the test.
        defaults: { timings: { backoffBaseMs: 20, backoffCapMs: 200 } },
      }),
    );
    const gw = startCli(['start'], { WA_CONND_CONFIG: config, NATS_URL: undefined });
    try {
      const [, http] = await gw.waitFor(/"url":"(http:\/\/[^"]+)".*"msg":"HTTP server listening"/);
      const scrape = async () => parsePrometheusText(await (await fetch(`${http}/metrics`)).text());
      const metrics = await until(
        `${ATTEMPTS} unreachable disconnects`,
        async () => {
          const m = await scrape();
          return sum(m, 'wa_disconnects_total', { account: 'alpha', reason: 'unreachable' }) >= ATTEMPTS
            ? m
            : undefined;
        },
        UNREACHABLE_DEADLINE_MS,
        POLL_MS,
      );
      // Its own reason and code in the metrics, never the 408 Baileys reports it as.
      const samples = metrics.get('wa_disconnects_total')!.samples.filter((x) => x.labels.account === 'alpha');
      expect(
        samples.every((x) => x.labels.reason === 'unreachable' && causes.test(x.labels.code!)),
        JSON.stringify(samples),
      ).toBe(true);
      expect(sum(metrics, 'wa_accounts_connected')).toBe(0);
      expect(sum(metrics, 'wa_accounts')).toBe(1);

      // The status says why.
      const wa = await connectWaClient({ servers: nats.url, timeoutMs: 5_000 });
      try {
        const status = await wa.status('alpha');
        expect(status.lastDisconnects[0]).toMatchObject({ reason: 'unreachable' });
        expect(status.lastDisconnects[0]!.cause).toMatch(causes);
        expect(status.lastDisconnects[0]!.statusCode).toBeUndefined();
      } finally {
        await wa.close();
      }

      // Ready (restarting would not help) and, at a glance, nothing connected.
      const ready = await fetch(`${http}/readyz`);
      const body = (await ready.json()) as { ready: boolean; connected: number };
      expect(ready.status).toBe(200);
      expect(body.connected).toBe(0);

      // One line on stderr saying what failed and what to check, not one per retry.
      const notices = gw
        .stderr()
        .split('\n')
        .filter((l) => l.includes('cannot reach WhatsApp'));
      expect(notices, gw.stderr()).toHaveLength(1);
      expect(notices[0]).toContain(`cannot reach WhatsApp at ${url}: `);
      expect(notices[0]).toMatch(/docs\/runbook\.md/);
      return notices[0]!;
    } finally {
      gw.child.kill('SIGTERM');
      const r = await gw.exited;
      expect(r.code, r.stderr).toBe(EXIT.ok);
    }
  }

  it('a closed port: reason unreachable with ECONNREFUSED', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const notice = await runUnreachable(`ws://127.0.0.1:${port}/ws/chat`, /^ECONNREFUSED$/);
    expect(notice).toMatch(/ECONNREFUSED \(the connection was refused/);
  }, 60_000);

  it('a host that does not resolve: reason unreachable with the DNS error', async () => {
    // .invalid never resolves (RFC 2606); without any resolver the error is EAI_AGAIN.
    const notice = await runUnreachable('ws://wa-connd-test.invalid/ws/chat', /^(ENOTFOUND|EAI_AGAIN)$/);
    expect(notice).toMatch(/the host name does not resolve: check DNS/);
  }, 60_000);
});

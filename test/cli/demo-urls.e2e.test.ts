/**
 * `wa-connd demo` as a child process: at start it prints where to watch — the inspector,
 * /metrics and the simulator's control API — on the configured HTTP port (README's
 * 8080 by default) when that is free, and on another free port, said so, when not.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { type GatewayChild, startCli } from '../support/gateway-child.js';

/** Long enough to fetch every URL while it runs; the settle after it is bounded by the demo. */
const DEMO_DURATION = '4s';
const URLS = /inspector:\s+(\S+)\n\s+metrics:\s+(\S+)\n[^]*?simulator control API:\s+(\S+)/;

let nats: NatsServer;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => nats?.stop());

const listen = (port = 0) =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
const portOf = (s: Server) => (s.address() as { port: number }).port;
const closeServer = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

async function freePort(): Promise<number> {
  const s = await listen();
  const port = portOf(s);
  await closeServer(s);
  return port;
}

/** Reads the printed URLs, checks each answers while the demo runs, and waits for a clean end. */
async function urlsOf(d: GatewayChild): Promise<{ inspector: string; metrics: string; simulator: string }> {
  const [, inspector, metrics, simulator] = await d.waitFor(URLS);
  expect((await fetch(inspector!)).status, inspector).toBe(200);
  const m = await fetch(metrics!);
  expect(m.status, metrics).toBe(200);
  expect(await m.text()).toMatch(/^wa_transitions_total/m);
  expect((await fetch(new URL('/healthz', simulator!))).status, simulator).toBe(200);
  const r = await d.exited;
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return { inspector: inspector!, metrics: metrics!, simulator: simulator! };
}

describe('wa-connd demo prints where to watch', () => {
  it('on the configured HTTP port when it is free', async () => {
    const port = await freePort();
    const d = startCli(['demo', '--duration', DEMO_DURATION], { NATS_URL: nats.url, WA_CONND_HTTP_PORT: String(port) });
    const urls = await urlsOf(d);
    expect(urls.inspector).toBe(`http://127.0.0.1:${port}/inspect`);
    expect(urls.metrics).toBe(`http://127.0.0.1:${port}/metrics`);
    expect(d.stdout()).not.toMatch(/in use/);
  }, 90_000);

  it('on another free port when the configured one is taken, and says so', async () => {
    const taken = await listen();
    try {
      const port = portOf(taken);
      const d = startCli(['demo', '--duration', DEMO_DURATION], {
        NATS_URL: nats.url,
        WA_CONND_HTTP_PORT: String(port),
      });
      const urls = await urlsOf(d);
      const printed = Number(new URL(urls.inspector).port);
      expect(printed).not.toBe(port);
      expect(printed).toBeGreaterThan(0);
      expect(d.stdout()).toContain(`port ${port} is in use`);
    } finally {
      await closeServer(taken);
    }
  }, 90_000);
});

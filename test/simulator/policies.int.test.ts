import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisconnectReason } from '@whiskeysockets/baileys';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openProvisioned, startTrustedSimulator, type TestClient } from '../support/simulator-client.js';

/** 16 min (the field report's period) × 0.001 ≈ 1 s of wall time. */
const TIME_SCALE = 0.001;
const SIXTEEN_MINUTES_MS = 16 * 60_000;
const SCALED_PERIOD_MS = SIXTEEN_MINUTES_MS * TIME_SCALE;
/** Client keepalive: several pings per scaled period. */
const KEEPALIVE_MS = 250;
/** How often the "application" client sends a presence update. */
const PRESENCE_EVERY_MS = 200;
/** Periods a healthy session must survive. */
const PERIODS = 3;

let sim: RunningSimulator;
const clients: TestClient[] = [];
const timers: NodeJS.Timeout[] = [];

beforeAll(async () => {
  sim = await startTrustedSimulator({ timeScale: TIME_SCALE });
});
afterAll(async () => {
  for (const t of timers) clearInterval(t);
  for (const c of clients) c.end();
  await sim.close();
});

async function open(): Promise<{ client: TestClient; phone: string }> {
  const r = await openProvisioned(sim, { keepAliveIntervalMs: KEEPALIVE_MS });
  clients.push(r.client);
  return r;
}

const count = (phone: string, kind: 'ping' | 'presence'): number =>
  sim.sessions().find((s) => s.account === phone)?.trafficCounts[kind] ?? 0;
const isOpen = (c: TestClient): boolean => !c.updates.some((u) => u.connection === 'close');

describe('idle-timeout policy (pings do not reset it, as in the field report)', () => {
  it('drops a session that only pings with 408 after the period', async () => {
    const { client, phone } = await open();
    sim.setFaults(
      { idleTimeout: { afterMs: SIXTEEN_MINUTES_MS, resetBy: ['message', 'presence', 'iq'], code: 408 } },
      phone,
    );
    const started = Date.now();
    expect(await client.closed()).toBe(DisconnectReason.timedOut);
    expect(Date.now() - started).toBeGreaterThanOrEqual(SCALED_PERIOD_MS * 0.9);
  });

  it('keeps a session that sends presence updates over several periods', async () => {
    const { client, phone } = await open();
    sim.setFaults(
      { idleTimeout: { afterMs: SIXTEEN_MINUTES_MS, resetBy: ['message', 'presence', 'iq'], code: 408 } },
      phone,
    );
    timers.push(
      setInterval(() => void client.sock.sendPresenceUpdate('available').catch(() => undefined), PRESENCE_EVERY_MS),
    );
    const needed = Math.ceil((PERIODS * SCALED_PERIOD_MS) / PRESENCE_EVERY_MS);
    await client.until(
      `${needed} presence updates`,
      () => (count(phone, 'presence') >= needed || !isOpen(client) ? true : undefined),
      15_000,
    );
    expect(isOpen(client)).toBe(true);
  });

  it('keeps a pinging session when pings are configured to count', async () => {
    const { client, phone } = await open();
    sim.setFaults({ idleTimeout: { afterMs: SIXTEEN_MINUTES_MS, resetBy: ['ping'], code: 408 } }, phone);
    const needed = Math.ceil((PERIODS * SCALED_PERIOD_MS) / KEEPALIVE_MS);
    await client.until(
      `${needed} pings`,
      () => (count(phone, 'ping') >= needed || !isOpen(client) ? true : undefined),
      15_000,
    );
    expect(isOpen(client)).toBe(true);
  });
});

describe('metronomic recycle', () => {
  it('drops a busy session every period regardless of traffic', async () => {
    const { client, phone } = await open();
    sim.setFaults({ recycle: { everyMs: SIXTEEN_MINUTES_MS, code: 408 } }, phone);
    const started = Date.now();
    timers.push(
      setInterval(() => void client.sock.sendPresenceUpdate('available').catch(() => undefined), PRESENCE_EVERY_MS),
    );
    expect(await client.closed()).toBe(DisconnectReason.timedOut);
    expect(Date.now() - started).toBeGreaterThanOrEqual(SCALED_PERIOD_MS * 0.9);
    expect(count(phone, 'presence')).toBe(0); // the session is gone from the list
  });

  it('leaves no timers behind once the policy is cleared', async () => {
    const { client, phone } = await open();
    sim.setFaults({ recycle: { everyMs: SIXTEEN_MINUTES_MS, code: 408 } }, phone);
    sim.clearFaults(phone, ['recycle']);
    const needed = Math.ceil((2 * SCALED_PERIOD_MS) / KEEPALIVE_MS);
    await client.until(
      `${needed} pings`,
      () => (count(phone, 'ping') >= needed || !isOpen(client) ? true : undefined),
      15_000,
    );
    expect(isOpen(client)).toBe(true);
  });
});

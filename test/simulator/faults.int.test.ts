import { describe, expect, it } from 'vitest';
import { DisconnectReason } from '@whiskeysockets/baileys';
import type { FaultAction } from '../../src/simulator/index.js';
import { openProvisioned, TEST_KEEPALIVE_MS, simulatorPerFile, type TestClient } from '../support/simulator-client.js';

const fx = simulatorPerFile();
const { clients } = fx;

async function open(): Promise<{ client: TestClient; phone: string }> {
  const r = await openProvisioned(fx.sim);
  clients.push(r.client);
  return r;
}

// What each server-side fault becomes in Baileys 7.0.0-rc14 (lastDisconnect statusCode).
const cases: { name: string; action: FaultAction; expected: number }[] = [
  { name: 'stream error 408', action: { type: 'stream-error', code: 408 }, expected: DisconnectReason.timedOut },
  { name: 'stream error 500', action: { type: 'stream-error', code: 500 }, expected: DisconnectReason.badSession },
  { name: 'stream error 515', action: { type: 'stream-error', code: 515 }, expected: DisconnectReason.restartRequired },
  {
    name: 'stream error 411',
    action: { type: 'stream-error', code: 411 },
    expected: DisconnectReason.multideviceMismatch,
  },
  {
    name: 'stream error 503',
    action: { type: 'stream-error', code: 503 },
    expected: DisconnectReason.unavailableService,
  },
  { name: 'conflict replaced', action: { type: 'conflict' }, expected: DisconnectReason.connectionReplaced },
  { name: 'failure 401', action: { type: 'failure', reason: 401 }, expected: DisconnectReason.loggedOut },
  { name: 'failure 403', action: { type: 'failure', reason: 403 }, expected: DisconnectReason.forbidden },
  { name: 'failure 405 (client outdated)', action: { type: 'failure', reason: 405 }, expected: 405 },
  { name: 'WebSocket close', action: { type: 'close' }, expected: DisconnectReason.connectionClosed },
  { name: 'TCP destroy', action: { type: 'destroy' }, expected: DisconnectReason.connectionClosed },
];

describe('when the server injects a fault', () => {
  for (const c of cases) {
    it(`${c.name} closes the client with ${c.expected}`, async () => {
      const { client, phone } = await open();
      expect(fx.sim.inject(c.action, phone)).toHaveLength(1);
      expect(await client.closed()).toBe(c.expected);
    });
  }

  it('a 402 temporary ban closes with 402 and hands over its expiry and code as the error data', async () => {
    const { client, phone } = await open();
    fx.sim.inject({ type: 'failure', reason: 402, expire: 3600, code: 101 }, phone);
    expect(await client.closed()).toBe(402);
    const close = client.updates.find((u) => u.connection === 'close');
    expect((close?.lastDisconnect?.error as { data?: unknown } | undefined)?.data).toMatchObject({
      reason: '402',
      expire: '3600',
      code: '101',
    });
  });

  it('a second login with the same device replaces the first (440)', async () => {
    const { client, phone } = await open();
    const { connectClient } = await import('../support/simulator-client.js');
    const second = connectClient(fx.sim, client.auth);
    clients.push(second);
    await second.open();
    expect(await client.closed()).toBe(DisconnectReason.connectionReplaced);
    expect(fx.sim.sessions().filter((s) => s.account === phone && s.state === 'logged-in')).toHaveLength(1);
  });

  it('a login-failure fault refuses the login with that reason', async () => {
    const { client, phone } = await open();
    fx.sim.setFaults({ loginFailure: { reason: 401 } }, phone);
    fx.sim.inject({ type: 'close' }, phone);
    await client.closed();
    const { reconnect } = await import('../support/simulator-client.js');
    const again = reconnect(fx.sim, client);
    clients.push(again);
    expect(await again.closed()).toBe(DisconnectReason.loggedOut);
    fx.sim.clearFaults(phone);
  });
});

describe('when the link goes silent (half-open)', () => {
  it('the client detects the dead link with 408 after keepAlive + 5 s', async () => {
    const { client, phone } = await open();
    fx.sim.setFaults({ silence: true }, phone);
    const started = Date.now();
    expect(await client.closed(TEST_KEEPALIVE_MS + 5_000 + 5_000)).toBe(DisconnectReason.connectionLost);
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
    fx.sim.clearFaults(phone);
  });
});

describe('when latency is configured', () => {
  it('delays the ack of a send by ackLatencyMs', async () => {
    const { client, phone } = await open();
    const ACK_LATENCY_MS = 300;
    fx.sim.setFaults({ ackLatencyMs: ACK_LATENCY_MS }, phone);
    const started = Date.now();
    const sent = await client.sock.sendMessage('15557770009@s.whatsapp.net', { text: 'slow' });
    await client.until('delayed ack', () => client.acks.find((a) => a.id === sent?.key.id));
    expect(Date.now() - started).toBeGreaterThanOrEqual(ACK_LATENCY_MS);
    fx.sim.clearFaults(phone);
  });
});

import { describe, expect, it } from 'vitest';
import { connectClient, openProvisioned, reconnect, simulatorPerFile } from '../support/simulator-client.js';
import { memoryAuth } from '../support/credentials.js';

const fx = simulatorPerFile();
const { clients } = fx;

describe('when a provisioned device connects', () => {
  it('completes the Noise handshake, logs in and reaches open', async () => {
    const { client, phone } = await openProvisioned(fx.sim);
    clients.push(client);
    expect(client.auth.creds.me?.lid).toMatch(/@lid$/);
    const session = fx.sim.sessions().find((s) => s.account === phone);
    expect(session?.state).toBe('logged-in');
    // Keepalive pings are answered: the client stays open past several intervals.
    await client.until(
      'three pings',
      () => ((fx.sim.sessions().find((s) => s.account === phone)?.trafficCounts.ping ?? 0) >= 3 ? true : undefined),
      8_000,
    );
    expect(client.updates.some((u) => u.connection === 'close')).toBe(false);
  });

  it('logs in again with the same credentials after a close', async () => {
    const { client, phone } = await openProvisioned(fx.sim);
    clients.push(client);
    fx.sim.inject({ type: 'close' }, phone);
    await client.closed();
    const again = reconnect(fx.sim, client);
    clients.push(again);
    await again.open();
  });
});

describe('when a new device pairs by QR', () => {
  it('gets pair-success, restarts with 515 and opens with saved credentials', async () => {
    const auth = memoryAuth();
    const first = connectClient(fx.sim, auth);
    clients.push(first);
    const qr = await first.until('a QR', () => first.updates.find((u) => u.qr)?.qr);
    const scan = fx.sim.scanQr(qr, '4915112345678');
    expect(scan.phone).toBe('4915112345678');
    expect(await first.closed()).toBe(515);
    expect(auth.creds.me?.id).toMatch(/^4915112345678:\d+@s\.whatsapp\.net$/);
    expect(auth.creds.me?.lid).toMatch(/@lid$/);
    expect(auth.creds.account?.deviceSignature).toBeTruthy();
    const second = connectClient(fx.sim, auth);
    clients.push(second);
    await second.open();
    expect(fx.sim.accounts().find((a) => a.phone === '4915112345678')?.connected).toBe(true);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openProvisioned, startTrustedSimulator, type TestClient } from '../support/simulator-client.js';
import { anonymousDevice, rawLogin, type RawClient } from '../support/raw-client.js';

const SESSIONS = 1_000;
/** Logins in flight at once: enough to keep both cores busy without a thundering herd. */
const CONCURRENCY = 50;

let sim: RunningSimulator;
const raws: RawClient[] = [];
let real: TestClient | undefined;

beforeAll(async () => {
  sim = await startTrustedSimulator();
});
afterAll(async () => {
  for (const r of raws) r.ws.terminate();
  real?.end();
  await sim.close();
});

describe(`with ${SESSIONS} concurrent sessions`, () => {
  it('keeps them all logged in and still serves a real client', async () => {
    // Raw Noise clients (Baileys' own Noise handler, no socket machinery) keep the client
    // side cheap; their devices are registered on first login (unknownAccounts: 'register').
    const devices = Array.from({ length: SESSIONS }, (_, i) => anonymousDevice(String(16_660_000_000 + i)));
    for (let i = 0; i < devices.length; i += CONCURRENCY) {
      const batch = devices.slice(i, i + CONCURRENCY).map((c) => rawLogin(sim.wsUrl, c, { verifyCertificate: false }));
      raws.push(...(await Promise.all(batch)));
    }
    expect(sim.sessions().filter((s) => s.state === 'logged-in')).toHaveLength(SESSIONS);
    real = (await openProvisioned(sim)).client;
    const sent = await real.sock.sendMessage('15557770030@s.whatsapp.net', { text: 'among many' });
    await real.until('ack', () => real?.acks.find((a) => a.id === sent?.key.id));
  }, 60_000);
});

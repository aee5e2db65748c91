import { describe, expect, it } from 'vitest';
import { connectClient, simulatorPerFile } from '../support/simulator-client.js';
import { memoryAuth } from '../support/credentials.js';

const fx = simulatorPerFile();
const { clients } = fx;

describe('when a new device links with a pairing code (requestPairingCode)', () => {
  it('derives the same ADV secret, pairs, restarts with 515 and opens', async () => {
    const phone = '4917012345678';
    const auth = memoryAuth();
    const first = connectClient(fx.sim, auth);
    clients.push(first);
    // Baileys asks for a code once the registration has started (the QR stage).
    await first.until('the QR stage', () => first.updates.find((u) => u.qr));
    const code = await first.sock.requestPairingCode(phone);
    expect(code).toHaveLength(8);
    // The user types the code on the phone; the client may still be sending its hello.
    await first.until('companion hello at the server', () =>
      fx.sim.sessions().some((s) => s.pairing === 'code') ? true : undefined,
    );
    await fx.sim.enterPairingCode(phone, code);
    expect(await first.closed()).toBe(515);
    expect(auth.creds.registered).toBe(true);
    expect(auth.creds.me?.id).toMatch(new RegExp(`^${phone}:\\d+@s\\.whatsapp\\.net$`));
    const second = connectClient(fx.sim, auth);
    clients.push(second);
    await second.open();
  });

  it('a wrong code does not pair', async () => {
    const phone = '4917012345679';
    const auth = memoryAuth();
    const client = connectClient(fx.sim, auth);
    clients.push(client);
    await client.until('the QR stage', () => client.updates.find((u) => u.qr));
    const code = await client.sock.requestPairingCode(phone);
    const wrong = code === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA';
    await client.until('companion hello at the server', () =>
      fx.sim.sessions().some((s) => s.pairing === 'code') ? true : undefined,
    );
    await fx.sim.enterPairingCode(phone, wrong);
    // The client answers with companion_finish (refused: the bundle does not decrypt), then
    // acks the notification; by then nothing has paired.
    await client.until('the notification ack', () =>
      fx.sim.sessions().some((s) => s.pairing === 'code' && (s.trafficCounts.ack ?? 0) >= 1) ? true : undefined,
    );
    expect(fx.sim.accounts().find((a) => a.phone === phone)?.hasKeys ?? false).toBe(false);
    expect(client.updates.some((u) => u.connection === 'open')).toBe(false);
  });
});

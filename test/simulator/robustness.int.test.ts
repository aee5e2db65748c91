import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import WebSocket from 'ws';
import { NOISE_WA_HEADER, type AuthenticationCreds } from '@whiskeysockets/baileys';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openProvisioned, startTrustedSimulator, type TestClient } from '../support/simulator-client.js';
import { rawLogin } from '../support/raw-client.js';
import { fromBufferJson } from '../support/credentials.js';

const logLines: Record<string, unknown>[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString('utf8').split('\n'))
      if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

let sim: RunningSimulator;
let healthy: TestClient;
const CONTACT_JID = '15557770010@s.whatsapp.net';

beforeAll(async () => {
  sim = await startTrustedSimulator({ logger: pino({ level: 'info' }, logStream) });
  healthy = (await openProvisioned(sim)).client;
});
afterAll(async () => {
  healthy.end();
  await sim.close();
});

/** Opens a bare WebSocket, sends `bytes`, and resolves with the close code. */
function sendRaw(bytes: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(sim.wsUrl);
    ws.on('open', () => ws.send(bytes));
    ws.on('close', (code) => resolve(code));
    ws.on('error', reject);
  });
}

function lengthPrefixed(data: Buffer): Buffer {
  const out = Buffer.alloc(3 + data.length);
  out.writeUIntBE(data.length, 0, 3);
  data.copy(out, 3);
  return out;
}

async function healthyStillWorks(): Promise<void> {
  const sent = await healthy.sock.sendMessage(CONTACT_JID, { text: 'still here' });
  await healthy.until('ack on the healthy session', () => healthy.acks.find((a) => a.id === sent?.key.id));
}

const badInputLogs = (): Record<string, unknown>[] =>
  logLines.filter((l) => l.msg === 'closing connection after bad input');

describe('when a peer sends bad input', () => {
  it('garbage instead of the WA header closes only that socket, and is logged', async () => {
    const before = badInputLogs().length;
    expect(await sendRaw(Buffer.from('GET / HTTP/1.1\r\n\r\nnot a noise header at all'))).toBe(1002);
    const log = badInputLogs()[before];
    expect(log).toMatchObject({ code: 'handshake_failed', state: 'handshake' });
    expect(log?.connectionId).toMatch(/^c\d+$/);
    await healthyStillWorks();
  });

  it('a bad handshake message closes only that socket, and is logged', async () => {
    const before = badInputLogs().length;
    expect(
      await sendRaw(Buffer.concat([NOISE_WA_HEADER, lengthPrefixed(Buffer.from([0x12, 0x03, 0x0a, 0x01, 0x02]))])),
    ).toBe(1002);
    expect(badInputLogs()[before]).toMatchObject({ code: 'handshake_failed' });
    await healthyStillWorks();
  });

  it('an oversized frame length closes only that socket', async () => {
    const huge = Buffer.from([0xff, 0xff, 0xff]);
    expect(await sendRaw(Buffer.concat([NOISE_WA_HEADER, huge]))).toBe(1002);
    await healthyStillWorks();
  });

  it('a malformed frame after login closes only that session, logged with its account', async () => {
    const provisioned = sim.provisionAccount();
    const raw = await rawLogin(sim.wsUrl, fromBufferJson<AuthenticationCreds>(provisioned.creds));
    const before = badInputLogs().length;
    raw.ws.send(lengthPrefixed(Buffer.from('this is not AES-GCM ciphertext')));
    expect(await raw.closed).toBe(1002);
    expect(badInputLogs()[before]).toMatchObject({
      code: 'protocol_error',
      state: 'logged-in',
      account: provisioned.account.phone,
    });
    // Never message text or keys in the logs.
    expect(JSON.stringify(logLines)).not.toContain('still here');
    await healthyStillWorks();
  });
});

describe('when the client sends the routing-info intro (ED prefix)', () => {
  it('parses it and logs in', async () => {
    const provisioned = sim.provisionAccount();
    const raw = await rawLogin(sim.wsUrl, fromBufferJson<AuthenticationCreds>(provisioned.creds), {
      routingInfo: Buffer.from([8, 2, 8, 5]),
    });
    const success = await raw.next('success');
    expect(success.attrs.lid).toMatch(/@lid$/);
    raw.close();
  });
});

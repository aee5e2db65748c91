// The logs of a whole scenario — gateway, Baileys at trace, NATS, the simulator; a
// provisioned account connecting, sends with known text, inbound messages, a forced
// drop — hold neither the account's private keys (base64 or hex) nor any message text.
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmdSubject } from '../../src/contract/index.js';
import { createLogger, guardConsole } from '../../src/logging/logger.js';
import { startScenario, type Scenario } from '../support/gateway-scenario.js';
import type { AuthenticationCreds } from '@whiskeysockets/baileys';
import { fromBufferJson } from '../support/credentials.js';
import { until } from '../support/waiters.js';

const SENT_TEXTS = ['outbound secret text alpha 7f3c', 'outbound secret text beta 91ad'];
const INBOUND_TEXTS = ['inbound secret text gamma 5e21', 'inbound secret text delta c04b'];
const FRIEND = '15550009999';

const lines: string[] = [];
const memory = { write: (line: string) => void lines.push(line) };
const originalConsole = {
  log: console.log,
  info: console.info,
  debug: console.debug,
  warn: console.warn,
  error: console.error,
};
let s: Scenario & { baileysLogger: ReturnType<typeof createLogger> };

beforeAll(async () => {
  const logger = createLogger({ level: 'trace' }, memory);
  guardConsole(logger);
  const baileysLogger = logger.child({ lib: 'baileys' });
  s = Object.assign(await startScenario({ logger, baileysLogger }), { baileysLogger });
  await s.entered('open');
});

afterAll(async () => {
  await s?.close();
  Object.assign(console, originalConsole);
});

/** Every encoding of a key a log line could carry it in. */
function encodings(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes);
  return [
    b.toString('base64'),
    b.toString('base64url'),
    b.toString('hex'),
    b.toString('base64').slice(0, 24),
    b.toString('hex').slice(0, 24),
  ];
}

describe('the logs of a full scenario at trace level', () => {
  it('contain no private key and no message text', async () => {
    const client = await connect({ servers: s.nats.url });
    try {
      for (const text of SENT_TEXTS) {
        const reply = (
          await client.request(cmdSubject(s.account, 'send'), JSON.stringify({ to: FRIEND, text }), { timeout: 5_000 })
        ).json<{ ok: boolean }>();
        expect(reply.ok).toBe(true);
      }
    } finally {
      await client.close();
    }
    // Back to back: two prekey messages from a new contact can race in Baileys' key
    // transactions ("Invalid PreKey ID"); the retry receipt Baileys then sends is answered
    // by the simulator with a re-encrypted copy, so both arrive either way.
    for (const text of INBOUND_TEXTS) s.sim.pushInbound({ account: s.provisioned.account.phone, from: FRIEND, text });
    await until('both inbound messages', () =>
      s.facts.filter((f) => f.type === 'message.in').length >= INBOUND_TEXTS.length ? true : undefined,
    );
    await until('both sends acked', () =>
      s.facts.filter((f) => f.type === 'send.acked').length >= 2 ? true : undefined,
    );
    // A drop and a reconnect: the noise handshake and login run again under trace.
    const opens = s.transitions().filter((t) => t.to === 'open').length;
    s.sim.inject({ type: 'stream-error', code: 408 }, s.provisioned.account.phone);
    await s.entered('open', opens + 1);

    const creds = fromBufferJson<AuthenticationCreds>(s.provisioned.creds);
    const secrets: Record<string, string[]> = {
      'noiseKey.private': encodings(creds.noiseKey.private),
      'signedIdentityKey.private': encodings(creds.signedIdentityKey.private),
      'signedPreKey.keyPair.private': encodings(creds.signedPreKey.keyPair.private),
      advSecretKey: [creds.advSecretKey],
    };
    for (const t of [...SENT_TEXTS, ...INBOUND_TEXTS]) secrets[`text "${t}"`] = [t];

    // The redaction is live on Baileys' logger: what reaches it holding the account's
    // credentials (Baileys' key-store writes are logged as `{ keys }` at trace) is
    // censored, not merely absent; the scan below would find the keys otherwise.
    s.baileysLogger.trace(
      { creds: s.provisioned.creds, keys: s.provisioned.keys },
      'credentials handed to the logger by the test',
    );
    const planted = lines.find((l) => l.includes('credentials handed to the logger by the test'));
    expect(planted).toContain('"creds":"[redacted]"');
    expect(planted).toContain('"keys":"[redacted]"');

    expect(lines.length).toBeGreaterThan(100);
    // Trace from Baileys really is in there (otherwise this proves nothing).
    expect(lines.some((l) => l.includes('"lib":"baileys"'))).toBe(true);
    const leaks: string[] = [];
    for (const [what, needles] of Object.entries(secrets)) {
      for (const needle of needles) {
        const line = lines.find((l) => l.includes(needle));
        if (line) leaks.push(`${what} in: ${line.slice(0, 400)}`);
      }
    }
    expect(leaks).toEqual([]);
  });
});

describe('what the redaction keeps', () => {
  it('the stream error code of the forced 408 survives in the log', () => {
    const streamErrors = lines
      .map((l) => JSON.parse(l) as { msg?: string; fullErrorNode?: { attrs?: { code?: string } } })
      .filter((l) => l.msg === 'stream errored out');
    expect(streamErrors.length).toBeGreaterThan(0);
    expect(streamErrors.map((l) => l.fullErrorNode?.attrs?.code)).toContain('408');
  });
});

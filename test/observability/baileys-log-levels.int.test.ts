// What Baileys logs through the gateway, at the levels the gateway runs it with: a
// routine disconnect (the server's 408 or 515, a login the link dies under) is not an
// error, so an operator alerting on level >= 50 is not paged for it; a genuine fault
// (here a server certificate Baileys refuses) still is.
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustServerRoot } from '../../src/baileys/trust.js';
import { createLogger } from '../../src/logging/logger.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { startLoopMonitor, type LoopMonitor } from '../../src/runtime/loop-monitor.js';
import type { AccountAuth } from '../../src/runtime/account-runtime.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { FAST_TIMINGS, FactLog, memoryAccountAuth } from '../support/runtime-harness.js';
import { Waiters } from '../support/waiters.js';
import { fromBufferJson } from '../support/credentials.js';

type Line = { level: number; msg?: string; lib?: string; account?: string; reason?: string; statusCode?: number };

/** Pino's numeric levels: what an alert on "error and up" matches. */
const ERROR = 50;
const LOG_DEADLINE_MS = 10_000;

const raw: string[] = [];
const facts = new FactLog();
const logWaiters = new Waiters();
const logger = createLogger(
  { level: 'info' },
  {
    write: (line: string) => {
      raw.push(line);
      logWaiters.poke();
    },
  },
);
const lines = (from = 0): Line[] => raw.slice(from).map((l) => JSON.parse(l) as Line);

let sim: RunningSimulator;
let loop: LoopMonitor;
let gateway: Gateway;
const auths = new Map<string, AccountAuth>();

async function addProvisioned(account: string, timings = FAST_TIMINGS): Promise<string> {
  const p = sim.provisionAccount({ preKeys: 10 });
  auths.set(account, memoryAccountAuth(fromBufferJson(p.creds), fromBufferJson(p.keys)));
  await gateway.add(account, { timings, keepalive: 'ping' });
  return p.account.phone;
}

beforeAll(async () => {
  sim = await startSimulator();
  trustServerRoot(sim.rootPublicKey, logger);
  loop = startLoopMonitor();
  // The production wiring: no baileysLogger given, so Baileys logs through the account's
  // logger at the gateway's default (warn and up reach the output).
  gateway = new Gateway({
    sink: facts.sink,
    logger,
    loop,
    waWebSocketUrl: sim.wsUrl,
    defaults: { timings: FAST_TIMINGS, keepalive: 'ping' },
    authFor: async (account) => auths.get(account) ?? memoryAccountAuth(),
  });
});

afterAll(async () => {
  await gateway?.close();
  loop?.stop();
  await sim?.close();
});

describe('Baileys log levels', () => {
  it('a routine disconnect (408, 515, a login the link dies under) logs nothing at error level', async () => {
    const phone = await addProvisioned('routine', { ...FAST_TIMINGS, connectTimeoutMs: 1_000 });
    await facts.entered('routine', 'open');
    const mark = raw.length;

    sim.inject({ type: 'stream-error', code: 408 }, phone);
    await facts.entered('routine', 'open', 2);
    sim.inject({ type: 'stream-error', code: 515 }, phone);
    await facts.entered('routine', 'open', 3);
    // A login under a half-open link: the connect deadline ends it, the next one works.
    sim.setFaults({ silence: true }, phone);
    sim.inject({ type: 'close' }, phone);
    await facts.until('a login that timed out', () =>
      facts.transitions('routine').some((t) => t.reason === 'connectTimeout') ? true : undefined,
    );
    sim.clearFaults(phone, ['silence']);
    await facts.entered('routine', 'open', 4);

    const during = lines(mark);
    // The disconnects are in the log, as the gateway's own info lines.
    expect(
      during.filter((l) => l.msg === 'transition' && l.reason === 'connectionLost' && l.statusCode === 408),
    ).toHaveLength(1);
    expect(
      during.filter((l) => l.msg === 'transition' && l.reason === 'restartRequired' && l.statusCode === 515),
    ).toHaveLength(1);
    const errors = during.filter((l) => l.level >= ERROR);
    expect(errors.map((l) => `${l.lib ?? 'gateway'}: ${l.msg}`)).toEqual([]);
  });

  it('a genuine fault inside Baileys (a server certificate it refuses) still logs at error', async () => {
    const mark = raw.length;
    // Expect another issuer serial: Baileys refuses the simulator's certificate chain.
    // (Not another root key: Baileys 7.0.0-rc14 ignores the result of the chain's
    // signature check, see the note in docs/simulator.md.)
    const serial = WA_CERT_DETAILS.SERIAL;
    WA_CERT_DETAILS.SERIAL = serial + 1;
    try {
      await addProvisioned('untrusted');
      const line = await logWaiters.until(
        'a Baileys error line',
        () => lines(mark).find((l) => l.lib === 'baileys' && l.account === 'untrusted' && l.level >= ERROR),
        LOG_DEADLINE_MS,
      );
      expect(line.msg).toBe('error in validating connection');
    } finally {
      WA_CERT_DETAILS.SERIAL = serial;
      await gateway.remove('untrusted');
    }
  });
});

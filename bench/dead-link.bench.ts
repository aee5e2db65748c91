// Dead-link detection on a blackholed socket: the simulator's `freeze` stops reading and
// writing the TCP socket (not even a WebSocket close is answered), the way a NAT timeout or a
// dead mobile link looks. Side by side in one run, all frozen at random phases:
// - plain Baileys 7.0.0-rc14 with its defaults (keepAliveIntervalMs 30 s): when it gives up
//   (its keepalive finds no frame read for interval + 5 s and calls `end`: the 'connection
//   errored' log line) and when it reports the close (`connection.update: close`, after
//   `end()` has waited out the WebSocket's close handshake);
// - the gateway at its defaults: when the machine decides the link is dead (the first
//   transition after the freeze) and when the account is open again.
import makeWASocket, { type WASocket } from '@whiskeysockets/baileys';
import pino from 'pino';
import { DEFAULT_TIMINGS } from '../machines/index.js';
import type { BenchSection } from './run.js';
import { muteConsole, startTimedGateway } from './runtime-gateway.js';
import { control, provision, startSimulatorProcess, type SimulatorProcess } from './sim-process.js';
import { fmt, median, percentile } from './stats.js';
import { memoryAuth } from '../test/support/credentials.js';

export const title = 'Dead-link detection';

/** Frozen sockets per side; all run at once, so the bench takes one detection's time. */
const SUBJECTS = 8;
/** Freezes fall uniformly in [0, this) after open: Baileys' 30 s keepalive phase decides its time. */
const PHASE_SPREAD_MS = 30_000;
/** Plain Baileys needs up to ~95 s (35 s to give up, then the 30 s close timeout and more). */
const SUBJECT_DEADLINE_MS = 180_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Sample {
  /** freeze → the side decides the link is dead. */
  detect: number;
  /** freeze → Baileys reports the close (plain) or the account is open again (gateway). */
  after: number;
}

async function freeze(sim: SimulatorProcess, phone: string): Promise<number> {
  const t0 = performance.now();
  const { connections } = await control<{ connections: string[] }>(sim.http, 'POST', '/actions', {
    account: phone,
    type: 'freeze',
  });
  if (connections.length === 0) throw new Error(`simulator: no session of ${phone} to freeze`);
  return t0;
}

function withDeadline<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${SUBJECT_DEADLINE_MS} ms`)), SUBJECT_DEADLINE_MS);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** One plain Baileys socket at its defaults; resolves with its two times after a freeze. */
async function plainSubject(sim: SimulatorProcess): Promise<Sample> {
  const p = await provision(sim.http);
  let gaveUpAt = 0;
  // Baileys logs 'connection errored' at info the moment its keepalive calls end().
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        if (!gaveUpAt && line.includes('"connection errored"')) gaveUpAt = performance.now();
      },
    },
  );
  const auth = memoryAuth(p.creds, p.keys);
  let sock: WASocket | undefined;
  try {
    const opened = new Promise<void>((resolve, reject) => {
      sock = makeWASocket({ waWebSocketUrl: sim.ws, auth: { creds: auth.creds, keys: auth.keys }, logger });
      sock.ev.on('connection.update', (u) => {
        if (u.connection === 'open') resolve();
        if (u.connection === 'close') reject(new Error('plain Baileys: closed before the freeze'));
      });
    });
    await withDeadline(opened, 'plain Baileys open');
    const closed = new Promise<number>((resolve) =>
      sock!.ev.on('connection.update', (u) => {
        if (u.connection === 'close') resolve(performance.now());
      }),
    );
    await sleep(Math.random() * PHASE_SPREAD_MS);
    const t0 = await freeze(sim, p.phone);
    const closedAt = await withDeadline(closed, 'plain Baileys close');
    return { detect: (gaveUpAt || closedAt) - t0, after: closedAt - t0 };
  } finally {
    void sock?.end(undefined); // already closed, or a failed run: nothing to undo
  }
}

export default async function bench(): Promise<BenchSection> {
  const unmute = muteConsole();
  const sim = await startSimulatorProcess();
  try {
    const g = await startTimedGateway(sim, {});
    try {
      const gatewaySubject = async (i: number): Promise<Sample> => {
        const account = `dead${i}`;
        const p = await provision(sim.http);
        const from = g.facts.all.length;
        await g.add(account, p);
        await g.facts.nextTransition(account, from, 'open', (f) => f.to === 'open');
        await sleep(Math.random() * PHASE_SPREAD_MS);
        const mark = g.facts.all.length;
        const t0 = await freeze(sim, p.phone);
        // The first transition out of the online states after the freeze is the decision.
        const dead = await withDeadline(
          g.facts.nextTransition(account, mark, 'link declared dead', (f) =>
            ['draining', 'reconnecting'].includes(f.to),
          ),
          `${account}: dead link`,
        );
        const open = await withDeadline(
          g.facts.nextTransition(account, dead.index, 'open again', (f) => f.to === 'open'),
          `${account}: open again`,
        );
        return { detect: dead.t - t0, after: open.t - t0 };
      };
      const [plain, gateway] = await Promise.all([
        Promise.all(Array.from({ length: SUBJECTS }, () => plainSubject(sim))),
        Promise.all(Array.from({ length: SUBJECTS }, (_, i) => gatewaySubject(i))),
      ]);
      return { title, markdown: render(plain, gateway) };
    } finally {
      await g.close();
    }
  } finally {
    sim.stop();
    unmute();
  }
}

function render(plain: Sample[], gateway: Sample[]): string {
  const s = (xs: number[]) =>
    [median(xs), percentile(xs, 90), Math.max(...xs)].map((v) => fmt(v / 1000, 1)).join(' | ');
  const t = DEFAULT_TIMINGS;
  return [
    `A blackholed socket (the simulator's \`freeze\`: the server stops reading and writing the TCP socket, so not even a WebSocket close is answered), ${SUBJECTS} sockets per side frozen at once, each at a random moment in the first ${PHASE_SPREAD_MS / 1000} s after open (the keepalive phase decides detection time).`,
    '',
    '| from the freeze (s) | samples | median | p90 | max |',
    '|---|---|---|---|---|',
    `| plain Baileys 7.0.0-rc14, defaults: gives up (its keepalive calls \`end\`) | ${plain.length} | ${s(plain.map((x) => x.detect))} |`,
    `| plain Baileys: reports the close (\`connection.update: close\`) | ${plain.length} | ${s(plain.map((x) => x.after))} |`,
    `| **gateway: declares the link dead** (first transition after the freeze) | ${gateway.length} | ${s(gateway.map((x) => x.detect))} |`,
    `| **gateway: open again** on a new socket | ${gateway.length} | ${s(gateway.map((x) => x.after))} |`,
    '',
    `Target: blackholed socket → open again, p90 ≤ 10 s. Plain Baileys (\`keepAliveIntervalMs\` 30 s) ends the socket only when no frame was read for interval + 5 s, checked once per interval (35–65 s), then \`end()\` waits out the WebSocket's close handshake (30 s) before it reports the close. ` +
      `The gateway at its defaults: idle after ${t.idleAfterMs / 1000} s without a frame, a probe, dead after \`pingTimeoutMs\` ${t.pingTimeoutMs / 1000} s without an answer; then it reconnects on a new socket without waiting for the frozen one to close.`,
  ].join('\n');
}

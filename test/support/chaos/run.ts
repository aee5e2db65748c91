/**
 * One chaos run (docs/testing.md, "Chaos"): real nats-server, the simulator process,
 * supervised gateway children, a real webhook receiver verifying signatures, concurrent
 * clients — and, on the plan's schedule, simulator faults, SIGKILLs of gateways and
 * nats-server restarts. Then everything is settled and checked (checks.ts) from the
 * simulator's ledger, the stream, the receiver and the logs. `npm run chaos` and
 * test/chaos/chaos-small.e2e.test.ts both run this.
 */
import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { cmdSubject, evtSubject } from '../../../src/contract/index.js';
import { waMessageIdFor } from '../../../src/runtime/message-id.js';
import { writeCredentials } from '../credentials.js';
import { request } from '../nats-client.js';
import { connectTo, startNatsServer, type NatsServer } from '../nats-server.js';
import { prng } from '../random.js';
import { tempDir } from '../temp-dir.js';
import { until } from '../waiters.js';
import { startReceiver, type Receiver } from '../webhook-receiver.js';
import { runClients, newClientStats } from './clients.js';
import { runFault } from './faults.js';
import {
  CHAOS_TIMINGS,
  makePlan,
  markerPattern,
  WEBHOOK_TYPES,
  type ChaosPlan,
  type ChaosScale,
  type PlannedKill,
} from './plan.js';
import { GatewayGroup, provisionAt, startSimProcess, type SimProcess } from './processes.js';
import { settleAndCheck, type ChaosResult } from './verdict.js';

/** How long a restarted gateway gets to publish its first replayed `send.sent` before it is killed anyway. */
const REPLAY_WAIT_MS = 20_000;
/** Sends held on a frozen link before the kill, so the next process has a backlog to replay. */
const BACKLOG_MS = 800;

export type ChaosOptions = { seed: number; scale: ChaosScale; log?: (line: string) => void };

export type ChaosWorld = {
  plan: ChaosPlan;
  nats: NatsServer;
  nc: NatsConnection;
  sim: SimProcess;
  receiver: Receiver;
  groups: GatewayGroup[];
  phones: Map<string, string>;
  kills: Record<string, number>;
  restarts: number;
  faults: number;
  faultErrors: string[];
  startedAt: number;
  stopping: boolean;
};

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => undefined);
  const plan = makePlan(options.seed, options.scale);
  const rand = prng(options.seed ^ 0x5eed);
  const dir = await tempDir('wa-connd-chaos-');
  const nats = await startNatsServer();
  const nc = await connectTo(nats.url);
  const sim = await startSimProcess(`chaos-${options.seed}`);
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const receiver = await startReceiver(secret);
  // A few refusals and resets, so delivery is retried throughout (seeded).
  receiver.behave = () => {
    const x = rand();
    return x < 0.03 ? { kind: 'status', status: 500 } : x < 0.04 ? { kind: 'reset' } : { kind: 'ok' };
  };
  const phones = new Map<string, string>();
  for (const account of plan.accounts) {
    const p = await provisionAt(sim.http);
    await writeCredentials(`${dir.path}/data`, account, p);
    phones.set(account, p.phone);
  }
  const groups = Array.from({ length: plan.gateways }, (_, g) => {
    const accounts = plan.accounts.filter((a) => plan.gatewayOf.get(a) === g);
    return new GatewayGroup(
      g,
      accounts,
      () => ({
        natsUrl: nats.url,
        dataDir: `${dir.path}/data`,
        waUrl: sim.ws,
        trustRoot: sim.rootPublicKey,
        accounts: accounts.map((id) => ({ id, connect: true })),
        settings: {
          // info: every line a gateway writes is searched for message text.
          log: { level: 'info' },
          defaults: { keepalive: 'both', timings: CHAOS_TIMINGS },
          // One process delivers webhooks (docs/webhooks.md: one endpoint, one process); it is killed too.
          ...(g === 0
            ? {
                webhooks: {
                  allowPrivateAddresses: true,
                  ackWaitMs: 2_000,
                  endpoints: [
                    {
                      id: 'chaos',
                      url: receiver.url,
                      secret,
                      types: WEBHOOK_TYPES,
                      startAt: 'all',
                      timeoutMs: 2_000,
                      retry: { attempts: 1_000, baseMs: 50, capMs: 1_000 },
                    },
                  ],
                },
              }
            : {}),
        },
      }),
      dir.path,
    );
  });
  const world: ChaosWorld = {
    plan,
    nats,
    nc,
    sim,
    receiver,
    groups,
    phones,
    kills: {},
    restarts: 0,
    faults: 0,
    faultErrors: [],
    startedAt: 0,
    stopping: false,
  };
  const timers = new Set<() => void>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(t);
        timers.delete(done);
        resolve();
      }
      timers.add(done);
    });
  const at = (offsetMs: number) => sleep(world.startedAt + offsetMs - Date.now());
  try {
    await Promise.all(groups.map((g) => g.start()));
    await until(
      'every account answering status',
      async () => {
        for (const a of plan.accounts) {
          const r = await request(nc, cmdSubject(a, 'status'), undefined, 1_000).catch(() => undefined);
          if (!r?.ok) return false;
        }
        return true;
      },
      60_000,
      100,
    );
    log(
      `chaos: seed ${plan.seed}, ${plan.sends.length} sends, ${plan.accounts.length} accounts, ${groups.length} gateways`,
    );
    world.startedAt = Date.now();
    const reconnect = async (account: string) => {
      await request(nc, cmdSubject(account, 'connect'), undefined, 5_000).catch(() => undefined);
    };
    const faultTarget = { http: sim.http, phoneOf: (a: string) => phones.get(a) ?? '', reconnect, sleep };
    const faultsRunning = new Set<Promise<void>>();
    const faultLoop = (async () => {
      for (const f of plan.faults) {
        await at(f.atMs);
        world.faults++;
        const p = runFault(faultTarget, f).then((err) => {
          if (err) world.faultErrors.push(err);
          faultsRunning.delete(p);
        });
        faultsRunning.add(p);
      }
    })();
    const killLoop = (async () => {
      for (const k of plan.kills) {
        await at(k.atMs);
        await killAt(world, k, sleep);
      }
    })();
    const restartLoop = (async () => {
      for (const r of plan.restarts) {
        await at(r.atMs);
        const g = groups[r.gateway] as GatewayGroup;
        if (r.kind === 'crash') await nats.kill();
        if (r.kind === 'startup') {
          if (await g.kill()) count(world, 'running');
          void g.start();
          await sleep(300);
        }
        await nats.restart();
        world.restarts++;
        log(`chaos: nats-server ${r.kind} #${world.restarts}`);
      }
    })();
    const stats = newClientStats();
    const env = { nc, startedAt: world.startedAt, sleep, rand, stats };
    await Promise.all(
      plan.accounts.map((a) =>
        runClients(
          env,
          plan.sends.filter((s) => s.account === a),
          plan.scale.clientsPerAccount,
        ),
      ),
    );
    log(`chaos: clients done (${stats.accepted.size} accepted, ${stats.retries} retries)`);
    await Promise.all([faultLoop, killLoop, restartLoop]);
    await Promise.all(faultsRunning);
    return await settleAndCheck(world, stats, log, markerPattern(plan.seed), (a, id) => waMessageIdFor(a, id));
  } finally {
    world.stopping = true;
    for (const done of [...timers]) done();
    await Promise.all(groups.map((g) => g.stop().catch(() => undefined)));
    await receiver.close();
    await nc.close().catch(() => undefined);
    await sim.stop();
    await nats.stop();
    await dir.remove();
  }
}

function count(world: ChaosWorld, point: string): void {
  world.kills[point] = (world.kills[point] ?? 0) + 1;
}

/** Executes one planned kill (plan.ts KILL_POINTS). */
async function killAt(world: ChaosWorld, k: PlannedKill, sleep: (ms: number) => Promise<void>): Promise<void> {
  const g = world.groups[k.gateway] as GatewayGroup;
  switch (k.point) {
    case 'running':
      if (await g.kill()) count(world, 'running');
      await g.start();
      return;
    case 'startup':
      if (await g.kill()) count(world, 'running');
      await g.start();
      await sleep(k.delayMs);
      if (await g.kill()) count(world, 'startup');
      await g.start();
      return;
    case 'replay': {
      // A blackholed link holds the sends in flight; the process dies with them; the next one
      // replays them, and dies on its first replayed `send.sent`.
      for (const a of g.accounts)
        await fetch(`${world.sim.http}/actions`, {
          method: 'POST',
          body: JSON.stringify({ account: world.phones.get(a), type: 'freeze' }),
        }).catch(() => undefined);
      await sleep(BACKLOG_MS);
      if (await g.kill()) count(world, 'backlog');
      let replaying = false;
      const subs = g.accounts.map((a) =>
        world.nc.subscribe(evtSubject(a, 'send.sent'), {
          callback: () => {
            replaying = true;
          },
        }),
      );
      await world.nc.flush().catch(() => undefined);
      await g.start();
      await until('a replayed send.sent', () => replaying || world.stopping, REPLAY_WAIT_MS, 5).catch(() => false);
      for (const s of subs) s.unsubscribe();
      if (await g.kill()) count(world, replaying ? 'replay' : 'running');
      await g.start();
      return;
    }
  }
}

// Leases (docs/scaling.md): failover time over repeated SIGKILLs of an account's owner,
// planned handoff time (SIGTERM), and send throughput with 1, 2 and 3 gateway processes
// against one simulator. Gateways are child processes (`node --import tsx src/main.ts`),
// credentials in NATS KV, the default TTL.
import type { NatsConnection } from '@nats-io/transport-node';
import { cmdSubject, evtSubject } from '../src/contract/index.js';
import { startSimulator } from '../src/simulator/index.js';
import type { GatewayChild } from '../test/support/gateway-child.js';
import { allInState, countByOwner, fleet, ownersByStatus, provisionAccounts } from '../test/support/lease-fleet.js';
import { request } from '../test/support/nats-client.js';
import { connectTo, startNatsServer } from '../test/support/nats-server.js';
import { tempDir } from '../test/support/temp-dir.js';
import { until } from '../test/support/waiters.js';
import type { BenchSection } from './run.js';
import { fmt, median, percentile } from './stats.js';

export const title = 'Leases: failover, handoff, throughput with 1–3 processes';

const TTL_MS = 9_000;
const KILLS = Number(process.env['LEASE_BENCH_KILLS'] ?? 20);
const HANDOFFS = 5;
const SENDS_PER_ACCOUNT = 50;
const DEADLINE_MS = 120_000;

/** Resolves with the time the account's next transition to `open` is seen on the stream. */
function nextOpen(nc: NatsConnection, account: string): Promise<number> {
  return new Promise((resolve) => {
    const sub = nc.subscribe(evtSubject(account, 'transition'), {
      callback: (_err, m) => {
        if (m.data.length === 0) return; // fence marker
        if (m.json<{ to: string }>().to === 'open') {
          sub.unsubscribe();
          resolve(Date.now());
        }
      },
    });
  });
}

async function ownerChild(nc: NatsConnection, account: string, children: GatewayChild[]): Promise<GatewayChild> {
  const s = await request(nc, cmdSubject(account, 'status'));
  const pid = (s['owner'] as { pid: number } | undefined)?.pid;
  const c = children.find((x) => x.pid === pid && x.child.exitCode === null && x.child.signalCode === null);
  if (!c) throw new Error(`no running child owns ${account}`);
  return c;
}

export default async function run(): Promise<BenchSection> {
  const nats = await startNatsServer();
  const nc = await connectTo(nats.url);
  const sim = await startSimulator();
  const dir = await tempDir('wa-connd-bench-leases-');
  const children: GatewayChild[] = [];
  try {
    const accounts = ['lb-0', 'lb-1', 'lb-2', 'lb-3', 'lb-4', 'lb-5'];
    const phones = await provisionAccounts(sim, nc, `${dir.path}/scratch`, accounts);
    const f = fleet(
      dir.path,
      {
        natsUrl: nats.url,
        dataDir: `${dir.path}/data`,
        waUrl: sim.wsUrl,
        trustRoot: sim.rootPublicKey,
        accounts: accounts.map((id) => ({ id, connect: true })),
        lease: { enabled: true, ttlMs: TTL_MS, rebalanceEveryMs: 500 },
      },
      phones,
    );
    const balanced = async (n: number) => {
      await until(
        `${n} processes balanced`,
        async () => {
          const c = countByOwner(await ownersByStatus(nc, accounts));
          return c.size === n && [...c.values()].every((x) => x <= Math.ceil(accounts.length / n));
        },
        DEADLINE_MS,
        200,
      );
      await allInState(nc, accounts, 'open', DEADLINE_MS);
    };

    // Throughput with 1, 2, 3 processes: every account gets SENDS_PER_ACCOUNT at once; time to the last at WhatsApp.
    const throughput: { n: number; perS: number }[] = [];
    let round = 0;
    for (const n of [1, 2, 3]) {
      while (children.length < n) children.push(await f.start());
      await balanced(n);
      const ids = accounts.flatMap((a) =>
        Array.from({ length: SENDS_PER_ACCOUNT }, (_, i) => ({ a, id: `tp${round}-${a}-${i}` })),
      );
      round++;
      const t0 = Date.now();
      await Promise.all(
        ids.map(async ({ a, id }) => {
          for (;;) {
            const r = await request(nc, cmdSubject(a, 'send'), { id, to: '+4915100000904', text: id }, 10_000).catch(
              () => null,
            );
            if (r?.ok) return;
          }
        }),
      );
      await until(
        'all at WhatsApp',
        () => accounts.every((a) => sim.ledger({ account: phones.get(a)! }).length >= SENDS_PER_ACCOUNT * round),
        DEADLINE_MS,
        20,
      );
      throughput.push({ n, perS: (ids.length * 1000) / (Date.now() - t0) });
    }

    // Planned handoff: SIGTERM the owner of lb-0, time until it is open elsewhere; then a replacement joins.
    const handoffs: number[] = [];
    for (let i = 0; i < HANDOFFS; i++) {
      const owner = await ownerChild(nc, 'lb-0', children);
      const opened = nextOpen(nc, 'lb-0');
      const t0 = Date.now();
      const stopping = owner.stop();
      handoffs.push((await opened) - t0);
      await stopping;
      children.splice(children.indexOf(owner), 1, await f.start());
      await balanced(3);
    }

    // Failover: SIGKILL the owner of lb-0, time until it is open elsewhere; then a replacement joins.
    const failovers: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      const owner = await ownerChild(nc, 'lb-0', children);
      const opened = nextOpen(nc, 'lb-0');
      const t0 = Date.now();
      await owner.kill('SIGKILL');
      failovers.push((await opened) - t0);
      children.splice(children.indexOf(owner), 1, await f.start());
      await balanced(3);
    }

    const rows = [
      `| failover (SIGKILL owner → account open elsewhere), ${KILLS} kills | ${fmt(median(failovers) / 1000, 2)} s | ${fmt(percentile(failovers, 99) / 1000, 2)} s | TTL ${TTL_MS / 1000} s; target p99 ≤ TTL + 2 s |`,
      `| planned handoff (SIGTERM owner → account open elsewhere), ${HANDOFFS} runs | ${fmt(median(handoffs) / 1000, 2)} s | ${fmt(percentile(handoffs, 99) / 1000, 2)} s | target ≤ 1 s |`,
    ];
    return {
      title,
      markdown: [
        `Child gateway processes (\`node --import tsx src/main.ts\`), one nats-server, one simulator, ${accounts.length} accounts, credentials in NATS KV, \`lease.ttlMs\` ${TTL_MS} ms (the default), measured on the shared, loaded machine. "Open elsewhere" is the account's \`transition\` to \`open\` seen on \`WA_EVENTS\` (fence, rebuild from the stream, KV auth fence, WhatsApp login included). After each kill or stop a replacement process starts and the fleet rebalances before the next run.`,
        '',
        '| what | median | p99 | note |',
        '| --- | --- | --- | --- |',
        ...rows,
        '',
        `Send throughput against one simulator: ${accounts.length} accounts × ${SENDS_PER_ACCOUNT} sends fired at once, from the first request to the last message at the simulator (commands that reach a process not owning the account are forwarded to its owner).`,
        '',
        '| gateway processes | sends/s |',
        '| --- | --- |',
        ...throughput.map((t) => `| ${t.n} | ${fmt(t.perS, 0)} |`),
        '',
        `Raw failover samples (ms): ${failovers.join(', ')}. Handoff samples (ms): ${handoffs.join(', ')}.`,
      ].join('\n'),
    };
  } finally {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await nc.close();
    await sim.close();
    await nats.stop();
    await dir.remove();
  }
}

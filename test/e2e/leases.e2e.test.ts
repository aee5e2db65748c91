/**
 * Several gateway processes sharing accounts by lease (issue 16, docs/scaling.md), as
 * child processes against one nats-server and one simulator, with one shared data dir
 * (the file credential store; its lock follows the lease):
 *
 * - balancing: 30 accounts, cap 12; one process holds 12, then with three the split
 *   converges to 10/10/10, nobody above the cap, never two owners (ownership events);
 * - handoff: SIGTERM one of two processes under a steady send load: nothing failed,
 *   every accepted send delivered, in order, each once; the takeover well under the TTL.
 */
import { writeFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmdSubject, evtFilter } from '../../src/contract/index.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import type { GatewayChild } from '../support/gateway-child.js';
import {
  allInState,
  countByOwner,
  doubleOwnership,
  fleet,
  ownershipEvents,
  ownersByStatus,
  provisionAccounts,
} from '../support/lease-fleet.js';
import { dumpStream, request } from '../support/nats-client.js';
import { connectTo, startNatsServer, type NatsServer } from '../support/nats-server.js';
import { checkLedger, startSendLoad } from '../support/send-load.js';
import { tempDir } from '../support/temp-dir.js';
import { until } from '../support/waiters.js';

const TTL_MS = 9_000;
/** Three child start-ups, 30 takeovers and the rebalancing on a loaded 2-core box. */
const CONVERGE_DEADLINE_MS = 90_000;
const CHAT = '+4915100000901';

describe('with several gateway processes sharing accounts by lease', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let sim: RunningSimulator;
  let dir: { path: string; remove(): Promise<void> };
  const all: GatewayChild[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connectTo(nats.url);
    sim = await startSimulator();
    dir = await tempDir('wa-connd-leases-');
  });

  afterAll(async () => {
    if (process.env['LEASES_DUMP'])
      writeFileSync(process.env['LEASES_DUMP'], all.map((c) => `--- child ${c.pid}\n${c.allOutput()}`).join('\n'));
    await Promise.all(all.map((c) => c.kill('SIGKILL')));
    await nc?.close();
    await sim?.close();
    await nats?.stop();
    await dir?.remove();
  });

  it(
    'spreads 30 accounts over 1 then 3 processes within the cap, never two owners',
    { timeout: CONVERGE_DEADLINE_MS * 2 },
    async () => {
      const accounts = Array.from({ length: 30 }, (_, i) => `bal-${i}`);
      const data = `${dir.path}/bal`;
      const f = fleet(
        dir.path,
        {
          natsUrl: nats.url,
          dataDir: data,
          waUrl: sim.wsUrl,
          trustRoot: sim.rootPublicKey,
          accounts: accounts.map((id) => ({ id, connect: false })),
          lease: { enabled: true, ttlMs: TTL_MS, maxAccounts: 12, rebalanceEveryMs: 300 },
        },
        new Map(),
      );
      all.push(await f.start());
      await until(
        'the first process holds its cap of 12',
        async () => {
          const n = countByOwner(await ownersByStatus(nc, accounts));
          return n.size === 1 && [...n.values()][0] === 12;
        },
        CONVERGE_DEADLINE_MS,
        200,
      );
      all.push(await f.start(), await f.start());
      let maxSeen = 0;
      await until(
        '10 / 10 / 10',
        async () => {
          const n = countByOwner(await ownersByStatus(nc, accounts));
          maxSeen = Math.max(maxSeen, ...n.values());
          return n.size === 3 && [...n.values()].every((c) => c === 10);
        },
        CONVERGE_DEADLINE_MS,
        200,
      );
      expect(maxSeen).toBeLessThanOrEqual(12);
      const events = await ownershipEvents(nc);
      expect(doubleOwnership(events)).toEqual([]);
      expect(new Set(events.filter((e) => e.type === 'owner.acquired').map((e) => e.account)).size).toBe(30);
      expect(events.some((e) => e.type === 'owner.released')).toBe(true);
      await Promise.all(f.children.map((c) => c.stop()));
    },
  );

  it(
    'hands accounts over on SIGTERM under load: nothing failed or lost, takeover well under the TTL',
    { timeout: CONVERGE_DEADLINE_MS * 2 },
    async () => {
      const accounts = ['ho-0', 'ho-1', 'ho-2', 'ho-3'];
      const data = `${dir.path}/ho`;
      const phones = await provisionAccounts(sim, nc, `${dir.path}/scratch`, accounts);
      const f = fleet(
        dir.path,
        {
          natsUrl: nats.url,
          dataDir: data,
          waUrl: sim.wsUrl,
          trustRoot: sim.rootPublicKey,
          accounts: accounts.map((id) => ({ id, connect: true })),
          lease: { enabled: true, ttlMs: TTL_MS, rebalanceEveryMs: 300 },
          logLevel: process.env['LEASES_LOG'] ?? 'warn',
        },
        phones,
      );
      const [a, b] = [await f.start(), await f.start()];
      all.push(a, b);
      await until(
        '2 / 2',
        async () => {
          const n = countByOwner(await ownersByStatus(nc, accounts));
          return n.size === 2 && [...n.values()].every((c) => c === 2);
        },
        CONVERGE_DEADLINE_MS,
        200,
      );
      await allInState(nc, accounts, 'open', CONVERGE_DEADLINE_MS);

      const load = startSendLoad(nc, accounts, CHAT);
      await until('some sends accepted', () => load.accepted.length >= 40, 30_000, 20);
      const stopped = Date.now();
      await a.stop();
      expect((await a.exited).code).toBe(0);
      await allInState(nc, accounts, 'open', CONVERGE_DEADLINE_MS);
      const before = load.accepted.length;
      await until('sends accepted after the handoff', () => load.accepted.length >= before + 40, 30_000, 20);
      await load.stop();

      expect(load.failures).toEqual([]);
      const ledger = (phone: string) => sim.ledger({ account: phone });
      await until(
        'every accepted send at WhatsApp',
        () => checkLedger(load.accepted, ledger, phones).missing.length === 0,
        30_000,
        100,
      );
      const check = checkLedger(load.accepted, ledger, phones);
      expect(check.outOfOrder).toEqual([]);
      expect(check.duplicates).toBe(0);

      const events = (await dumpStream(nc, evtFilter())).events.map((e) => e.event);
      expect(events.filter((e) => accounts.includes(e.account) && e.type === 'send.failed')).toEqual([]);
      const own = (await ownershipEvents(nc)).filter((e) => accounts.includes(e.account));
      expect(doubleOwnership(own)).toEqual([]);
      // Takeover time: the old owner's owner.released → the next owner.acquired, per handed-over account.
      const handoffs: number[] = [];
      for (const acc of accounts) {
        const list = own.filter((e) => e.account === acc && Date.parse(e.at) >= stopped);
        const rel = list.find((e) => e.type === 'owner.released');
        const acq = rel && list.find((e) => e.type === 'owner.acquired' && e.seq > rel.seq);
        if (rel && acq) handoffs.push(Date.parse(acq.at) - Date.parse(rel.at));
      }
      expect(handoffs).toHaveLength(2);
      process.stderr.write(
        `leases handoff: takeover ${handoffs.join(', ')} ms after release; ${load.accepted.length} sends accepted, ${load.retries} retries, SIGTERM→exit ${Date.now() - stopped} ms\n`,
      );
      // Not a speed test: below the TTL means the release was picked up from the watch, not by expiry.
      for (const ms of handoffs) expect(ms).toBeLessThan(TTL_MS);

      // 440 on the new owner right after the takeover: reconnects once; a second one is the user's other client: stopped.
      const moved = own.find((e) => e.type === 'owner.released' && Date.parse(e.at) >= stopped)!.account;
      sim.inject({ type: 'conflict' }, phones.get(moved));
      await until(
        'reconnected after the handoff 440',
        async () => {
          const s = await request(nc, cmdSubject(moved, 'status'));
          const d = s['lastDisconnects'] as { statusCode?: number }[];
          return s['state'] === 'open' && d[0]?.statusCode === 440;
        },
        30_000,
        100,
      );
      sim.inject({ type: 'conflict' }, phones.get(moved));
      await allInState(nc, [moved], 'stopped', 30_000);
      await b.stop();
    },
  );
});

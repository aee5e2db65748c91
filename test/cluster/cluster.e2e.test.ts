/**
 * The cluster scenario of issue 16 (docs/scaling.md): three nats-server processes
 * clustered on loopback ports (R3 streams and KV), three gateway processes sharing 30
 * simulated accounts by lease, a steady send load; then one NATS node and one gateway
 * are SIGKILLed. Every account must open again and every accepted send reach WhatsApp
 * once, in order per chat. Heavy for a 2-core box: it runs as `npm run test:cluster`
 * (not yet in .ci/run: docs/testing.md says why), not in `npm test`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { evtFilter } from '../../src/contract/index.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import type { GatewayChild } from '../support/gateway-child.js';
import {
  allInState,
  countByOwner,
  doubleOwnership,
  fleet,
  ownersByStatus,
  ownershipEvents,
  provisionAccounts,
} from '../support/lease-fleet.js';
import { dumpStream } from '../support/nats-client.js';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.js';
import { connectTo } from '../support/nats-server.js';
import { checkLedger, startSendLoad } from '../support/send-load.js';
import { tempDir } from '../support/temp-dir.js';
import { until } from '../support/waiters.js';

const ACCOUNTS = Array.from({ length: 30 }, (_, i) => `cl-${i}`);
const TTL_MS = 6_000;
/** 30 Baileys logins in three child processes on 2 cores, then a failover. */
const DEADLINE_MS = 180_000;
/** A JetStream API request of the test's own reads: the cluster answers slowly under load and after a node loss. */
const JS_REQUEST_TIMEOUT_MS = 30_000;
/** Per account, a send every this often: 30 accounts make ~75 sends/s in all. */
const SEND_EVERY_MS = 400;

describe('a 3-node NATS cluster with three gateway processes', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let sim: RunningSimulator;
  let dir: { path: string; remove(): Promise<void> };
  const children: GatewayChild[] = [];

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    nc = await connectTo(cluster.url.split(',')[0]!, { servers: cluster.urls });
    sim = await startSimulator();
    dir = await tempDir('wa-connd-cluster-');
  }, 60_000);

  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await nc?.close();
    await sim?.close();
    await cluster?.stop();
    await dir?.remove();
  });

  it(
    'keeps every account running and every accepted send delivered once, in order, through a node and a gateway kill',
    { timeout: DEADLINE_MS * 3 },
    async () => {
      // A failure names what each gateway process said and how it ended (a crash is the usual story).
      const exits = new Map<number, string>();
      onTestFailed(() => {
        process.stderr.write(`${cluster.describe()}\n`);
        // The whole of each child's log (info level) stays behind for the post-mortem.
        const logs = mkdtempSync(join(tmpdir(), 'wa-connd-cluster-logs-'));
        for (const c of children) writeFileSync(join(logs, `gateway-${c.pid}.log`), c.allOutput());
        process.stderr.write(`gateway logs kept in ${logs}\n`);
        for (const c of children)
          process.stderr.write(
            `--- gateway child ${c.pid}: ${exits.get(c.pid) ?? 'running'}\n${c.output().slice(-6_000)}\n`,
          );
      });
      const watchExit = (c: GatewayChild) => {
        void c.exited.then((r) => exits.set(c.pid, `exited code ${String(r.code)} signal ${String(r.signal)}`));
        return c;
      };
      const phones = await provisionAccounts(sim, nc, `${dir.path}/scratch`, ACCOUNTS, 3);
      const f = fleet(
        dir.path,
        {
          natsUrl: cluster.url,
          dataDir: `${dir.path}/data`,
          waUrl: sim.wsUrl,
          trustRoot: sim.rootPublicKey,
          accounts: ACCOUNTS.map((id) => ({ id, connect: true })),
          lease: { enabled: true, ttlMs: TTL_MS, rebalanceEveryMs: 500 },
          replicas: 3,
          logLevel: 'info',
        },
        phones,
      );
      children.push(watchExit(await f.start()), watchExit(await f.start()), watchExit(await f.start()));
      await allInState(nc, ACCOUNTS, 'open', DEADLINE_MS);
      // All three must be running accounts, or killing one proves nothing (a child that failed to start, say).
      await until(
        () => `three gateways sharing the accounts; exits: ${JSON.stringify([...exits])}`,
        async () => {
          if (exits.size > 0) throw new Error(`a gateway child ended before the kill: ${JSON.stringify([...exits])}`);
          return countByOwner(await ownersByStatus(nc, ACCOUNTS)).size === 3 || undefined;
        },
        DEADLINE_MS,
        500,
      );

      const chat = '+4915100000903';
      const load = startSendLoad(nc, ACCOUNTS, chat, SEND_EVERY_MS);
      await until('sends accepted', () => load.accepted.length >= 150, 60_000, 50);
      const killedAt = Date.now();
      // The node the test's own connection is not pinned to matters not: every client lists all three.
      await cluster.kill(1);
      await children[0]!.kill('SIGKILL');
      await allInState(nc, ACCOUNTS, 'open', DEADLINE_MS);
      const reopenedMs = Date.now() - killedAt;
      const after = load.accepted.length;
      await until('sends accepted after the kills', () => load.accepted.length >= after + 150, 60_000, 50);
      await load.stop();

      expect(load.failures).toEqual([]);
      const ledger = (phone: string) => sim.ledger({ account: phone });
      await until(
        'every accepted send at WhatsApp',
        () => checkLedger(load.accepted, ledger, phones).missing.length === 0,
        60_000,
        200,
      );
      const check = checkLedger(load.accepted, ledger, phones);
      expect(check.outOfOrder).toEqual([]);
      expect(doubleOwnership(await ownershipEvents(nc, JS_REQUEST_TIMEOUT_MS))).toEqual([]);
      const events = (await dumpStream(nc, evtFilter(), JS_REQUEST_TIMEOUT_MS)).events.map((e) => e.event);
      expect(events.filter((e) => e.type === 'send.failed')).toEqual([]);
      process.stderr.write(
        `cluster: all 30 accounts open again ${reopenedMs} ms after killing a NATS node and a gateway (TTL ${TTL_MS} ms); ` +
          `${load.accepted.length} sends accepted, ${load.retries} client retries, ${check.duplicates} resent under the same id\n`,
      );
    },
  );
});

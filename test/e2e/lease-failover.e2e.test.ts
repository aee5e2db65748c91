/**
 * Unplanned ownership changes (issue 16, docs/scaling.md), gateway children sharing
 * accounts by lease, credentials in NATS KV (`WA_AUTH`):
 *
 * - failover: SIGKILL the owner under load; its accounts open on the other process
 *   after the TTL; every send accepted before (and after) is delivered, in order;
 * - fencing: SIGSTOP the owner past its lease, the other takes over, SIGCONT: none of
 *   the old owner's event publishes or auth key writes is accepted after the takeover,
 *   no message goes out twice, and it stops the account instead of fighting for it.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_STREAM, EPOCH_HEADER } from '../../src/baileys/auth-kv.js';
import { WRITER_KEY } from '../../src/baileys/auth-codec.js';
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

/** Short, so a test waits out a few expiries; the default is 9 s. */
const TTL_MS = 4_000;
const DEADLINE_MS = 90_000;
const CHAT = '+4915100000902';

describe('when a lease owner dies or stalls', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let sim: RunningSimulator;
  let dir: { path: string; remove(): Promise<void> };
  const all: GatewayChild[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connectTo(nats.url);
    sim = await startSimulator();
    dir = await tempDir('wa-connd-failover-');
  });

  afterAll(async () => {
    for (const c of all) if (c.child.exitCode === null) c.child.kill('SIGCONT');
    await Promise.all(all.map((c) => c.kill('SIGKILL')));
    await nc?.close();
    await sim?.close();
    await nats?.stop();
    await dir?.remove();
  });

  const twoProcesses = async (prefix: string, n: number) => {
    const accounts = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    const phones = await provisionAccounts(sim, nc, `${dir.path}/scratch-${prefix}`, accounts);
    const f = fleet(
      dir.path,
      {
        natsUrl: nats.url,
        dataDir: `${dir.path}/${prefix}`,
        waUrl: sim.wsUrl,
        trustRoot: sim.rootPublicKey,
        accounts: accounts.map((id) => ({ id, connect: true })),
        lease: { enabled: true, ttlMs: TTL_MS, rebalanceEveryMs: 300 },
      },
      phones,
    );
    const a = await f.start();
    const b = await f.start();
    all.push(a, b);
    await until(
      'an even split',
      async () => {
        const c = countByOwner(await ownersByStatus(nc, accounts));
        return c.size === 2 && [...c.values()].every((x) => x === n / 2);
      },
      DEADLINE_MS,
      200,
    );
    await allInState(nc, accounts, 'open', DEADLINE_MS);
    const owners = await ownersByStatus(nc, accounts);
    return { accounts, phones, a, b, owners };
  };

  it(
    'SIGKILL: the accounts open on the other process, every accepted send delivered once, in order',
    { timeout: DEADLINE_MS * 2 },
    async () => {
      const { accounts, phones, a, b } = await twoProcesses('fo', 4);
      // Every process sharing WA_OWNERS and the command queue group must have the same account list
      // (docs/scaling.md): the survivor, with this test's accounts, must be gone before the next fleet starts,
      // or it counts as a live process there (its fair share drops, a stalled owner's account stays unowned)
      // and answers that fleet's `status` with `unknown_account`.
      try {
        const load = startSendLoad(nc, accounts, CHAT);
        await until('sends accepted', () => load.accepted.length >= 40, 30_000, 20);
        const killedAt = Date.now();
        await a.kill('SIGKILL');
        const acceptedBeforeKill = load.accepted.length;
        await allInState(nc, accounts, 'open', DEADLINE_MS);
        const reopenedMs = Date.now() - killedAt;
        const after = load.accepted.length;
        await until('sends accepted after the failover', () => load.accepted.length >= after + 20, 30_000, 20);
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
        const own = (await ownershipEvents(nc)).filter((e) => accounts.includes(e.account));
        expect(doubleOwnership(own)).toEqual([]);
        expect(own.filter((e) => e.type === 'owner.lost')).toHaveLength(2);
        const events = (await dumpStream(nc, evtFilter())).events.map((e) => e.event);
        expect(events.filter((e) => accounts.includes(e.account) && e.type === 'send.failed')).toEqual([]);
        process.stderr.write(
          `lease failover: accounts open again ${reopenedMs} ms after SIGKILL (TTL ${TTL_MS} ms); ${acceptedBeforeKill} sends accepted before the kill, ${load.accepted.length} in all, ${check.duplicates} resent under the same id (receiver dedup)\n`,
        );
      } finally {
        // SIGTERM: it releases its leases and deletes its process key on the way out.
        await b.stop();
      }
    },
  );

  it(
    'SIGSTOP past the lease, then SIGCONT: the old owner is fenced and stops',
    { timeout: DEADLINE_MS * 2 },
    async () => {
      const { accounts, phones, a, b, owners } = await twoProcesses('fe', 2);
      const x = accounts[0]!;
      const stalledWriter = owners.get(x)!;
      const status = await request(nc, cmdSubject(x, 'status'));
      const stalled = [a, b].find((c) => c.pid === (status['owner'] as { pid: number }).pid)!;
      stalled.child.kill('SIGSTOP');
      const taken = await until(
        'the other process owns it',
        async () => {
          const o = await ownersByStatus(nc, [x]);
          return o.get(x) && o.get(x) !== stalledWriter ? o.get(x) : undefined;
        },
        DEADLINE_MS,
        200,
      );
      await allInState(nc, [x], 'open', DEADLINE_MS);
      const jsm = await jetstreamManager(nc);
      const rec = (await jsm.streams.getMessage(AUTH_STREAM, { last_by_subj: `$KV.WA_AUTH.${x}.${WRITER_KEY}` }))!;
      expect(rec.string()).toContain(taken);
      const takenEpoch = rec.seq;
      const load = startSendLoad(nc, [x], CHAT);
      await until('sends accepted by the new owner', () => load.accepted.length >= 10, 30_000, 20);
      stalled.child.kill('SIGCONT');
      await stalled
        .waitFor(/lease lost|taken over by another writer|another writer took this account over/, 30_000)
        .catch(() => undefined);
      const more = load.accepted.length;
      await until('the new owner keeps sending', () => load.accepted.length >= more + 10, 30_000, 20);
      await load.stop();
      await allInState(nc, [x], 'open', DEADLINE_MS);
      // It stopped instead of fighting: it says so, and any later ownership of x came by a planned handoff
      // (rebalancing may give x back to it once it is alive again), never by contention (doubleOwnership below).
      expect(stalled.allOutput()).toMatch(/lease lost|another writer/);

      // Events: after the new owner's owner.acquired, every stored event of x is the new owner's.
      const dump = (await dumpStream(nc, evtFilter(x))).events;
      const acquired = dump.find(
        (e) => e.event.type === 'owner.acquired' && 'writer' in e.event && e.event.writer === taken,
      )!;
      const released = dump.find(
        (e) => e.streamSeq > acquired.streamSeq && e.event.type === 'owner.released' && e.event.writer === taken,
      );
      const later = dump.filter(
        (e) => e.streamSeq > acquired.streamSeq && (!released || e.streamSeq <= released.streamSeq),
      );
      expect(later.filter((e) => !e.msgId?.startsWith(`${x}:${taken}:`)).map((e) => e.msgId)).toEqual([]);
      // Auth keys: after the new owner's writer record, every write of x's keys carries its epoch.
      // Auth keys: every value of x's keys was written under the new owner's epoch or a later one, none under the stalled one's.
      const stale: number[] = [];
      const last = (await jsm.streams.info(AUTH_STREAM)).state.last_seq;
      for (let seq = 1; seq <= last; seq++) {
        const m = await jsm.streams.getMessage(AUTH_STREAM, { seq }).catch(() => null);
        if (m?.subject.startsWith(`$KV.WA_AUTH.${x}.`) && Number(m.header?.get(EPOCH_HEADER) ?? 0) < takenEpoch)
          if (!m.subject.endsWith(WRITER_KEY)) stale.push(seq);
      }
      expect(stale).toEqual([]);
      // No message out twice; the ownership history has one owner at a time.
      const check = checkLedger(load.accepted, (p) => sim.ledger({ account: p }), new Map([[x, phones.get(x)!]]));
      expect(check.missing).toEqual([]);
      expect(check.duplicates).toBe(0);
      expect(doubleOwnership((await ownershipEvents(nc)).filter((e) => e.account === x))).toEqual([]);
    },
  );
});

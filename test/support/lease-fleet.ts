/**
 * Several gateway children sharing accounts by lease (docs/scaling.md), as the lease
 * tests and the cluster test run them: one shared data dir (the file credential store;
 * its per-account lock follows the lease), one simulator, one NATS (or cluster), and
 * the ownership history read back from `WA_EVENTS`.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { Keyring } from '../../src/baileys/auth-codec.js';
import { fileStores, kvSessionStores } from '../../src/baileys/auth-stores.js';
import { moveSession } from '../../src/baileys/move-store.js';
import { cmdSubject } from '../../src/contract/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { writeCredentials } from './credentials.js';
import { spawnGateway, type GatewayChild, type GatewayConfig } from './gateway-child.js';
import { dumpStream, request } from './nats-client.js';
import { until } from './waiters.js';

export type Fleet = {
  children: GatewayChild[];
  start(): Promise<GatewayChild>;
  /** account → phone of its simulator account. */
  phones: Map<string, string>;
};

/**
 * Provisions simulator accounts and puts their credentials into NATS KV (`WA_AUTH`, the
 * default store every gateway process reads), through a scratch folder and `moveSession`
 * as `wa-connd accounts move-store` does. Returns account → phone.
 */
export async function provisionAccounts(
  sim: RunningSimulator,
  nc: NatsConnection,
  scratchDir: string,
  accounts: readonly string[],
  replicas = 1,
): Promise<Map<string, string>> {
  const phones = new Map<string, string>();
  const kv = await kvSessionStores({ nc, replicas, keyring: Keyring.none });
  for (const account of accounts) {
    const p = sim.provisionAccount();
    await writeCredentials(scratchDir, account, p);
    await moveSession(fileStores(scratchDir), kv, account);
    phones.set(account, p.account.phone);
  }
  return phones;
}

export function fleet(
  dir: string,
  base: Omit<GatewayConfig, 'lease'> & { lease: NonNullable<GatewayConfig['lease']> },
  phones: Map<string, string>,
): Fleet {
  const children: GatewayChild[] = [];
  return {
    children,
    phones,
    async start() {
      const c = await spawnGateway(dir, base);
      children.push(c);
      return c;
    },
  };
}

export type Ownership = { account: string; type: string; writer: string; by?: string; seq: number; at: string };

/** Every `owner.*` event in the stream, in per-account order (`timeoutMs`: as `dumpStream`'s). */
export async function ownershipEvents(nc: NatsConnection, timeoutMs?: number): Promise<Ownership[]> {
  const dump = await dumpStream(nc, 'wa.evt.*.owner.*', timeoutMs);
  return dump.events
    .map(({ event: e }) => ({
      account: e.account,
      type: e.type,
      writer: 'writer' in e ? e.writer : '',
      ...('by' in e && e.by !== undefined ? { by: e.by } : {}),
      seq: e.seq,
      at: e.at,
    }))
    .sort((a, b) => (a.account === b.account ? a.seq - b.seq : a.account < b.account ? -1 : 1));
}

/**
 * "Never two owners": per account, after `owner.acquired` by W the next acquisition by
 * another writer comes only after W released or lost it. Returns the violations.
 */
export function doubleOwnership(events: Ownership[]): string[] {
  const holder = new Map<string, string | null>();
  const bad: string[] = [];
  for (const e of events) {
    const h = holder.get(e.account) ?? null;
    if (e.type === 'owner.acquired') {
      if (h !== null && h !== e.writer)
        bad.push(`${e.account}: ${e.writer} acquired while ${h} held it (seq ${e.seq})`);
      holder.set(e.account, e.writer);
    } else if (h === e.writer) holder.set(e.account, null);
  }
  return bad;
}

/** account → owner writer id, as `status` (forwarded to the owner) says; accounts nobody holds are left out. */
export async function ownersByStatus(nc: NatsConnection, accounts: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all(
    accounts.map(async (a) => {
      try {
        const r = await request(nc, cmdSubject(a, 'status'), undefined, 2_000);
        const owner = (r['owner'] as { writer?: string } | undefined)?.writer;
        if (r.ok && owner) out.set(a, owner);
      } catch {
        // no owner right now
      }
    }),
  );
  return out;
}

/** Count of accounts per writer. */
export function countByOwner(owners: Map<string, string>): Map<string, number> {
  const n = new Map<string, number>();
  for (const w of owners.values()) n.set(w, (n.get(w) ?? 0) + 1);
  return n;
}

/** Waits until every account answers `status` in `state` (forwarded to wherever it runs). */
export async function allInState(
  nc: NatsConnection,
  accounts: readonly string[],
  state: string,
  deadlineMs: number,
): Promise<void> {
  let last: unknown[] = [];
  await until(
    () => `every account ${state}; last seen: ${accounts.map((a, i) => `${a}=${String(last[i])}`).join(' ')}`,
    async () => {
      const states = await Promise.all(
        accounts.map((a) =>
          request(nc, cmdSubject(a, 'status'), undefined, 2_000)
            .then((r) => r['state'])
            .catch(() => undefined),
        ),
      );
      last = states;
      return states.every((s) => s === state) || undefined;
    },
    deadlineMs,
    200,
  );
}

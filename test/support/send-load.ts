/**
 * A steady send load as a client following docs/subjects.md makes it: per account one
 * send at a time, each id retried (same id) on `unavailable` or a timeout until the
 * gateway accepts it. What was accepted, in order, is what the simulator's ledger must
 * hold exactly once each, in per-chat order.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { cmdSubject } from '../../src/contract/index.js';
import { waMessageIdFor } from '../../src/runtime/message-id.js';
import type { LedgerEntry } from '../../src/simulator/index.js';
import { request } from './nats-client.js';

/** A client's pause between retries of an id the gateway could not take yet. */
const RETRY_PAUSE_MS = 50;
/**
 * A client's request timeout. Short: a stalled (SIGSTOPped) gateway still in the command
 * queue group swallows the requests NATS hands it until the server drops its connection;
 * the client retries the same id, which is safe.
 */
const REQUEST_TIMEOUT_MS = 1_500;
/** Time between two sends of one account: a steady trickle, not a flood (2 cores shared). */
const SEND_EVERY_MS = 25;

export type Accepted = { account: string; id: string; waId: string; index: number };

export type SendLoad = {
  accepted: Accepted[];
  /** Replies other than ok and `unavailable` (or a timeout): must stay empty. */
  failures: string[];
  /** Retries forced by `unavailable` or a timeout: the handoff's visible cost. */
  retries: number;
  stop(): Promise<void>;
};

export function startSendLoad(
  nc: NatsConnection,
  accounts: readonly string[],
  to: string,
  everyMs = SEND_EVERY_MS,
): SendLoad {
  const load: SendLoad = { accepted: [], failures: [], retries: 0, stop: async () => undefined };
  let running = true;
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const loops = accounts.map(async (account) => {
    for (let index = 0; running; index++) {
      const id = `${account}-load-${index}`;
      for (;;) {
        try {
          const r = await request(
            nc,
            cmdSubject(account, 'send'),
            { id, to, text: `load ${index}` },
            REQUEST_TIMEOUT_MS,
          );
          if (r.ok) break;
          const code = (r['error'] as { code?: string } | undefined)?.code;
          if (code !== 'unavailable') {
            load.failures.push(`${id}: ${JSON.stringify(r)}`);
            break;
          }
        } catch {
          // timeout: retry the same id
        }
        load.retries++;
        await pause(RETRY_PAUSE_MS);
      }
      if (!load.failures.some((f) => f.startsWith(`${id}:`)))
        load.accepted.push({ account, id, waId: waMessageIdFor(account, id), index });
      await pause(everyMs);
    }
  });
  load.stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  return load;
}

/** What the ledger says about the accepted sends: missing ids, ids out of accepted order, duplicates by count. */
export function checkLedger(
  accepted: Accepted[],
  ledger: (phone: string) => LedgerEntry[],
  phones: Map<string, string>,
): { missing: string[]; outOfOrder: string[]; duplicates: number } {
  const missing: string[] = [];
  const outOfOrder: string[] = [];
  let duplicates = 0;
  for (const [account, phone] of phones) {
    const entries = ledger(phone);
    const byId = new Map(entries.map((e) => [e.id, e]));
    const mine = accepted.filter((a) => a.account === account).sort((a, b) => a.index - b.index);
    let lastSeq = 0;
    for (const a of mine) {
      const e = byId.get(a.waId);
      if (!e) {
        missing.push(a.id);
        continue;
      }
      if (e.count > 1) duplicates++;
      if (e.chatSeq < lastSeq) outOfOrder.push(a.id);
      lastSeq = e.chatSeq;
    }
  }
  return { missing, outOfOrder, duplicates };
}

/**
 * The chaos run's verdict, as pure functions over what the run collected: the event
 * stream read back, the simulator's ledger, what the webhook receiver got and the
 * gateways' logs. No IO here, so each check is unit-tested on hand-made input
 * (test/chaos/checks.unit.test.ts) with the defect it must find.
 */
import { retentionClass } from '../../../src/contract/index.js';

/** The fields of a stored event the checks read (a `WaEvent` has them all). */
export type ChaosEvent = {
  account: string;
  seq: number;
  type: string;
  id?: string;
  ack?: string;
  deadline?: string;
};

/** A simulator ledger entry (src/simulator/ledger): one per WhatsApp message id. */
export type LedgerRow = {
  account: string;
  chat: string;
  /** The WhatsApp message id. */
  id: string;
  text: string | undefined;
  chatSeq: number;
  count: number;
};

/** What the run asked for, per send: where it must arrive and with which text. */
export type PlannedSend = {
  account: string;
  id: string;
  /** The WhatsApp id the gateway derives from (account, id). */
  waId: string;
  /** Recipient's phone-number jid, as the ledger names the chat. */
  chat: string;
  text: string;
};

export type Terminal = 'acked' | 'failed' | 'expired';

export type Outcome = {
  account: string;
  id: string;
  /** Per-account seq of its `send.queued`: the order the gateway accepted it in. */
  queuedSeq: number;
  deadline: number | undefined;
  terminals: Terminal[];
};

const key = (account: string, id: string) => `${account}/${id}`;

/** Every send the stream accepted (`send.queued`), with its terminal events in stream order. */
export function sendOutcomes(events: readonly ChaosEvent[]): Map<string, Outcome> {
  const out = new Map<string, Outcome>();
  for (const e of events) {
    if (e.id === undefined) continue;
    const k = key(e.account, e.id);
    if (e.type === 'send.queued') {
      if (!out.has(k))
        out.set(k, {
          account: e.account,
          id: e.id,
          queuedSeq: e.seq,
          deadline: e.deadline === undefined ? undefined : Date.parse(e.deadline),
          terminals: [],
        });
      continue;
    }
    const o = out.get(k);
    if (!o) continue;
    // The server ack settles a send; `delivered`/`read` receipts come after it and settle nothing.
    if (e.type === 'send.acked' && e.ack === 'server') o.terminals.push('acked');
    else if (e.type === 'send.failed') o.terminals.push('failed');
    else if (e.type === 'send.expired') o.terminals.push('expired');
  }
  return out;
}

/**
 * Per account and retention class (docs/subjects.md, `seq`), seqs must run 1, 2, 3 … in
 * stream order: a jump is a gap, a step back a repeat. Records must have no gap; liveness
 * events are trimmed to the last few per subject by design, so there only repeats count.
 */
export function seqGaps(events: readonly Pick<ChaosEvent, 'account' | 'seq' | 'type'>[]): string[] {
  const last = new Map<string, number>();
  const found: string[] = [];
  for (const e of events) {
    const cls = retentionClass(e.type);
    const key = `${e.account}/${cls}`;
    const expected = (last.get(key) ?? 0) + 1;
    const name = cls === 'records' ? e.account : `${e.account} (liveness)`;
    if (e.seq > expected && cls === 'records') found.push(`${name}: seq ${e.seq} after ${expected - 1} (gap)`);
    else if (e.seq < expected) found.push(`${name}: seq ${e.seq} after ${expected - 1} (repeat)`);
    last.set(key, Math.max(e.seq, expected - 1));
  }
  return found;
}

/** Sends with no terminal event, and sends with more than one. */
export function terminalProblems(outcomes: ReadonlyMap<string, Outcome>): { missing: string[]; extra: string[] } {
  const missing: string[] = [];
  const extra: string[] = [];
  for (const [k, o] of outcomes) {
    if (o.terminals.length === 0) missing.push(k);
    else if (o.terminals.length > 1) extra.push(`${k}: ${o.terminals.join(', ')}`);
  }
  return { missing, extra };
}

export type DeliveryVerdict = {
  delivered: number;
  /** Accepted, not failed or expired, and not at WhatsApp. */
  lost: string[];
  /** One send at WhatsApp under more than one WhatsApp id, or a message no accepted send explains. */
  duplicated: string[];
  /** The same WhatsApp id written again (after a crash or a dead link): the receiver deduplicates by id. */
  resent: number;
  /** Per chat, a message arriving after one the gateway accepted later. */
  outOfOrder: string[];
  /** At WhatsApp although its caller was told it failed or expired. */
  reportedButDelivered: string[];
  /** At WhatsApp in the wrong chat or with other text. */
  mismatched: string[];
};

/**
 * The ledger against the accepted sends: every accepted send that did not end failed or
 * expired is at WhatsApp exactly once by WhatsApp id, in the right chat with its text, and
 * each chat's messages arrived in the order the gateway accepted them.
 */
export function deliveryVerdict(
  outcomes: ReadonlyMap<string, Outcome>,
  planned: ReadonlyMap<string, PlannedSend>,
  ledger: readonly LedgerRow[],
): DeliveryVerdict {
  const v: DeliveryVerdict = {
    delivered: 0,
    lost: [],
    duplicated: [],
    resent: 0,
    outOfOrder: [],
    reportedButDelivered: [],
    mismatched: [],
  };
  const byWaId = new Map(ledger.map((r) => [`${r.account}/${r.id}`, r]));
  const sendOfWaId = new Map<string, string>();
  for (const [k, p] of planned) sendOfWaId.set(`${p.account}/${p.waId}`, k);
  for (const [k, o] of outcomes) {
    const p = planned.get(k);
    if (!p) continue;
    const row = byWaId.get(`${p.account}/${p.waId}`);
    const reported = o.terminals[0] === 'failed' || o.terminals[0] === 'expired';
    if (!row) {
      if (!reported) v.lost.push(k);
      continue;
    }
    v.delivered++;
    if (reported) v.reportedButDelivered.push(`${k}: ${o.terminals[0]}`);
    if (row.chat !== p.chat || row.text !== p.text) v.mismatched.push(k);
  }
  const textsSeen = new Map<string, string>();
  for (const r of ledger) {
    v.resent += r.count > 1 ? 1 : 0;
    const k = sendOfWaId.get(`${r.account}/${r.id}`);
    if (k === undefined) v.duplicated.push(`${r.account}/${r.id}: no accepted send has this WhatsApp id`);
    if (r.text === undefined) continue;
    const first = textsSeen.get(`${r.account}/${r.text}`);
    if (first !== undefined) v.duplicated.push(`${r.account}/${r.id}: same text as ${first}`);
    else textsSeen.set(`${r.account}/${r.text}`, r.id);
  }
  // Per chat in arrival order, the accepted order must never step back.
  const chats = new Map<string, LedgerRow[]>();
  for (const r of ledger) {
    const c = `${r.account}/${r.chat}`;
    chats.set(c, [...(chats.get(c) ?? []), r]);
  }
  for (const [chat, rows] of chats) {
    let highest = 0;
    let highestId = '';
    for (const r of [...rows].sort((a, b) => a.chatSeq - b.chatSeq)) {
      const k = sendOfWaId.get(`${r.account}/${r.id}`);
      const seq = k === undefined ? undefined : outcomes.get(k)?.queuedSeq;
      if (seq === undefined) continue;
      if (seq < highest) v.outOfOrder.push(`${chat}: ${k} (queued seq ${seq}) arrived after ${highestId} (${highest})`);
      else {
        highest = seq;
        highestId = k ?? '';
      }
    }
  }
  return v;
}

/** A send whose deadline passed before `endMs`, that never reached WhatsApp, must have ended `send.expired` (or failed). */
export function unexpired(
  outcomes: ReadonlyMap<string, Outcome>,
  planned: ReadonlyMap<string, PlannedSend>,
  ledger: readonly LedgerRow[],
  endMs: number,
): string[] {
  const atWa = new Set(ledger.map((r) => `${r.account}/${r.id}`));
  const found: string[] = [];
  for (const [k, o] of outcomes) {
    if (o.deadline === undefined || o.deadline >= endMs) continue;
    const p = planned.get(k);
    if (p && atWa.has(`${p.account}/${p.waId}`)) continue;
    if (o.terminals[0] !== 'expired' && o.terminals[0] !== 'failed') found.push(k);
  }
  return found;
}

/** Events of the stream a webhook receiver never got (by account and seq); `wanted` picks the types the endpoint subscribes. */
export function undeliveredWebhooks(
  events: readonly Pick<ChaosEvent, 'account' | 'seq' | 'type'>[],
  received: readonly { account: string; seq: number }[],
  wanted: (type: string) => boolean = () => true,
): string[] {
  const got = new Set(received.map((r) => `${r.account}/${r.seq}`));
  return events.filter((e) => wanted(e.type) && !got.has(`${e.account}/${e.seq}`)).map((e) => `${e.account}/${e.seq}`);
}

/** Every match of `marker` (the unique text prefix each send carries) in a log: message text that leaked. */
export function textLeaks(log: string, marker: RegExp): string[] {
  const global = new RegExp(marker.source, marker.flags.includes('g') ? marker.flags : `${marker.flags}g`);
  return [...log.matchAll(global)].map((m) => m[0]);
}

export type ChaosCounts = {
  seed: number;
  sends: number;
  accepted: number;
  faults: number;
  kills: number;
  restarts: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  gaps: number;
};

/** The one summary line a run prints. */
export function summaryLine(c: ChaosCounts, extra: Record<string, number> = {}): string {
  const more = Object.entries(extra)
    .map(([k, n]) => ` ${k}=${n}`)
    .join('');
  return (
    `chaos seed=${c.seed} sends=${c.sends} accepted=${c.accepted} faults=${c.faults} kills=${c.kills} ` +
    `restarts=${c.restarts} lost=${c.lost} duplicated=${c.duplicated} out_of_order=${c.outOfOrder} gaps=${c.gaps}${more}`
  );
}

/** Failed: anything lost, duplicated, out of order or missing in the stream. */
export const failed = (c: ChaosCounts): boolean => c.lost + c.duplicated + c.outOfOrder + c.gaps > 0;

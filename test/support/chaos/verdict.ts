/**
 * The end of a chaos run: faults lifted, every gateway running, every accepted send
 * settled (empty outboxes), the webhook receiver caught up; then the gateways stop and
 * the checks (checks.ts) run on the ledger, the stream, the receiver and the logs.
 */
import { evtFilter } from '../../../src/contract/index.js';
import { dumpStream } from '../nats-client.js';
import { until } from '../waiters.js';
import { settleOutboxes } from './settle.js';
import {
  deliveryVerdict,
  seqGaps,
  sendOutcomes,
  summaryLine,
  terminalProblems,
  textLeaks,
  undeliveredWebhooks,
  unexpired,
  type ChaosCounts,
  type ChaosEvent,
  type LedgerRow,
  type PlannedSend,
} from './checks.js';
import type { ClientStats } from './clients.js';
import { WEBHOOK_TYPES } from './plan.js';
import type { ChaosWorld } from './run.js';

/** The receiver catching up with the stream after the last event (retries back off to 1 s). */
const WEBHOOK_DEADLINE_MS = 90_000;
/** How many items of each finding the result lists (the counts are complete). */
const SHOWN = 10;

export type ChaosResult = {
  counts: ChaosCounts;
  /** Further findings that also fail a run, and counts that explain it. */
  extra: Record<string, number>;
  /** Examples of each non-empty finding. */
  findings: Record<string, string[]>;
  line: string;
  ok: boolean;
};

async function control(http: string, method: string, route: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${http}${route}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return res.json();
}

export async function settleAndCheck(
  world: ChaosWorld,
  stats: ClientStats,
  log: (line: string) => void,
  marker: RegExp,
  waIdOf: (account: string, id: string) => string,
): Promise<ChaosResult> {
  const { plan, nc, sim, groups, receiver } = world;
  // 1. Lift every fault; every gateway running; every account connected (a 440 may have stopped one).
  await control(sim.http, 'DELETE', '/faults', {});
  for (const phone of world.phones.values()) await control(sim.http, 'DELETE', '/faults', { account: phone });
  for (const g of groups) if (!g.child) await g.start();
  const settleFrom = Date.now();
  await settleOutboxes(nc, plan.accounts, log);
  log(`chaos: settled in ${Date.now() - settleFrom} ms`);

  // 2. The webhook receiver has every event of the stream so far (the endpoint's types).
  const wanted = new Set<string>(WEBHOOK_TYPES);
  const settled = await dumpStream(nc, evtFilter());
  const settledEvents = settled.events.map((e) => e.event as ChaosEvent);
  let missingHooks: string[] = [];
  await until(
    'the webhook receiver caught up',
    () => {
      missingHooks = undeliveredWebhooks(settledEvents, receiver.unique, (t) => wanted.has(t));
      return missingHooks.length === 0;
    },
    WEBHOOK_DEADLINE_MS,
    200,
  ).catch(() => undefined);

  // 3. Stop the gateways; read the ledger and the whole stream.
  await Promise.all(groups.map((g) => g.stop()));
  const ledger: LedgerRow[] = [];
  for (const [account, phone] of world.phones) {
    const r = (await control(sim.http, 'GET', `/ledger?account=${phone}`)) as { entries: LedgerRow[] };
    for (const e of r.entries) ledger.push({ ...e, account });
  }
  const dump = await dumpStream(nc, evtFilter());
  const events = dump.events.map((e) => e.event as ChaosEvent);
  const endMs = Date.now();

  // 4. The checks.
  const planned = new Map<string, PlannedSend>(
    plan.sends.map((s) => [
      `${s.account}/${s.id}`,
      { account: s.account, id: s.id, waId: waIdOf(s.account, s.id), chat: s.chat, text: s.text },
    ]),
  );
  const outcomes = sendOutcomes(events);
  const delivery = deliveryVerdict(outcomes, planned, ledger);
  // Answered ok to a client but not in the stream: lost before it was ever recorded.
  const unrecorded = [...stats.accepted.keys()].filter((k) => !outcomes.has(k));
  const gaps = seqGaps(events);
  const terminals = terminalProblems(outcomes);
  const notExpired = unexpired(outcomes, planned, ledger, endMs);
  const leaks = groups.flatMap((g) => textLeaks(g.logs(), marker));
  const exits = groups.flatMap((g) => g.unexpectedExits());
  const findings: Record<string, string[]> = {
    lost: [...delivery.lost, ...unrecorded],
    duplicated: delivery.duplicated,
    outOfOrder: delivery.outOfOrder,
    gaps,
    noTerminal: terminals.missing,
    twoTerminals: terminals.extra,
    notExpired,
    reportedButDelivered: delivery.reportedButDelivered,
    mismatched: delivery.mismatched,
    webhookMissing: missingHooks,
    textInLogs: leaks,
    invalidEvents: dump.invalid > 0 ? [`${dump.invalid} events failed to parse`] : [],
    unexpectedExits: exits,
    faultErrors: world.faultErrors,
    refused: [...stats.refused].map(([k, code]) => `${k}: ${code}`),
    gaveUp: stats.gaveUp,
  };
  const counts: ChaosCounts = {
    seed: plan.seed,
    sends: plan.sends.length,
    accepted: outcomes.size,
    faults: world.faults,
    kills: Object.values(world.kills).reduce((a, b) => a + b, 0),
    restarts: world.restarts,
    lost: findings['lost']?.length ?? 0,
    duplicated: delivery.duplicated.length,
    outOfOrder: delivery.outOfOrder.length,
    gaps: gaps.length,
  };
  const failing = [
    'noTerminal',
    'twoTerminals',
    'notExpired',
    'reportedButDelivered',
    'mismatched',
    'webhookMissing',
    'textInLogs',
    'invalidEvents',
  ] as const;
  const extra: Record<string, number> = {
    delivered: delivery.delivered,
    failed: [...outcomes.values()].filter((o) => o.terminals[0] === 'failed').length,
    expired: [...outcomes.values()].filter((o) => o.terminals[0] === 'expired').length,
    resent_same_id: delivery.resent,
    retries: stats.retries,
    webhooks: receiver.unique.length,
    ...Object.fromEntries(failing.map((k) => [k, findings[k]?.length ?? 0])),
    ...Object.fromEntries(Object.entries(world.kills).map(([k, n]) => [`kills_${k}`, n])),
  };
  const ok =
    counts.lost + counts.duplicated + counts.outOfOrder + counts.gaps === 0 &&
    failing.every((k) => (findings[k]?.length ?? 0) === 0);
  return {
    counts,
    extra,
    findings: Object.fromEntries(
      Object.entries(findings)
        .filter(([, v]) => v.length > 0)
        .map(([k, v]) => [k, v.slice(0, SHOWN)]),
    ),
    line: summaryLine(counts),
    ok,
  };
}

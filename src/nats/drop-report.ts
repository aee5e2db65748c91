/**
 * Says, in the log, what was dropped and why, and counts it. During an outage the
 * buffer can drop thousands of facts; one line each would bury everything else, so
 * after the first line of a reason, lines come at most once per `intervalMs`, each
 * carrying how many were dropped since the last one, by type. Counters are exact.
 * Logged: account, type, and the ids a person needs (send id, WhatsApp message id);
 * never message text.
 */
import type { Logger } from 'pino';
import type { EventType, WaEvent } from '../contract/index.js';
import type { Fact } from '../runtime/port.js';
import type { DropReason, EventCounters } from './counters.js';

/** One line per reason per 5 s: readable during a storm, prompt enough to notice. */
export const DROP_LOG_INTERVAL_MS = 5_000;

export type DroppedFact = { account: string; type: EventType; id?: string; waMessageId?: string };

/** What a drop line names of a fact: its account and type, and the ids a person needs. */
export function dropped(fact: Fact | WaEvent): DroppedFact {
  const d: DroppedFact = { account: fact.account, type: fact.type };
  if ('id' in fact && typeof fact.id === 'string') d.id = fact.id;
  if ('waMessageId' in fact && typeof fact.waMessageId === 'string') d.waMessageId = fact.waMessageId;
  return d;
}

const MESSAGES: Record<DropReason, string> = {
  buffer_full:
    'offline event buffer full: fact dropped (oldest observability facts go first; see docs/architecture.md)',
  invalid: 'fact is not a valid event: dropped (runtime bug)',
  fenced: 'account taken over by another writer: buffered fact dropped',
  rejected: 'server refused the event for good: dropped',
  closed: 'event layer closed before the fact was published: dropped',
};

type Pending = { since: number; byType: Map<EventType, number> };

export class DropReport {
  readonly #pending = new Map<DropReason, Pending>();
  readonly #lastLogAt = new Map<DropReason, number>();

  constructor(
    private readonly logger: Logger,
    private readonly counters: EventCounters,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = DROP_LOG_INTERVAL_MS,
  ) {}

  dropped(reason: DropReason, fact: DroppedFact, detail?: Record<string, unknown>): void {
    this.counters.drop(reason, fact.type);
    const t = this.now();
    const last = this.#lastLogAt.get(reason);
    // Invalid and rejected facts are bugs worth a line each; they are rare by nature.
    const always = reason === 'invalid' || reason === 'rejected';
    if (always || last === undefined || t - last >= this.intervalMs) {
      const suppressed = this.#pending.get(reason);
      this.#pending.delete(reason);
      this.#lastLogAt.set(reason, t);
      const level = reason === 'closed' || reason === 'fenced' ? 'warn' : 'error';
      this.logger[level](
        {
          reason,
          account: fact.account,
          type: fact.type,
          ...(fact.id !== undefined ? { id: fact.id } : {}),
          ...(fact.waMessageId !== undefined ? { waMessageId: fact.waMessageId } : {}),
          ...(suppressed ? { alsoDroppedSinceLastLine: Object.fromEntries(suppressed.byType) } : {}),
          droppedTotal: this.counters.dropped,
          ...detail,
        },
        MESSAGES[reason],
      );
      return;
    }
    let p = this.#pending.get(reason);
    if (!p) {
      p = { since: t, byType: new Map() };
      this.#pending.set(reason, p);
    }
    p.byType.set(fact.type, (p.byType.get(fact.type) ?? 0) + 1);
  }
}

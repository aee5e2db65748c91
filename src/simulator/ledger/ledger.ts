// Everything the accounts sent, by message id: a test asserts "each message exactly once, in
// order" against it. A message id seen again (a resend after reconnect) bumps `count` on the
// first entry instead of adding a second one, so duplicates are visible, not hidden.

export interface LedgerEntry {
  /** Arrival order over the whole simulator (1-based). */
  seq: number;
  /** Arrival order within (account, chat) (1-based). */
  chatSeq: number;
  account: string;
  /** Canonical chat: the recipient's phone-number jid. */
  chat: string;
  id: string;
  /** Decrypted text; undefined when the message was not text or could not be decrypted. */
  text: string | undefined;
  /** What the message held: 'text', or the first proto.Message field name. */
  kind: string;
  decrypted: boolean;
  /** Times this id arrived; > 1 means the client sent it again. */
  count: number;
  /** Group sends: participant device jid (phone-number form) → times that device could read
   * the message. Exactly-once fan-out means every participant device at 1. */
  recipients?: Record<string, number>;
  firstAt: number;
  lastAt: number;
}

export interface LedgerRecord {
  account: string;
  chat: string;
  id: string;
  text: string | undefined;
  kind: string;
  decrypted: boolean;
  /** Group sends: the devices that could read this copy. */
  recipients?: string[];
}

export interface LedgerQuery {
  account?: string;
  chat?: string;
}

export class Ledger {
  private readonly entries: LedgerEntry[] = [];
  private readonly byKey = new Map<string, LedgerEntry>();
  private readonly chatCounters = new Map<string, number>();

  /** Records an arrival; returns the entry and whether it was a duplicate. */
  record(r: LedgerRecord, now = Date.now()): { entry: LedgerEntry; duplicate: boolean } {
    // Ids are unique per sender, so the account is part of the key.
    const key = `${r.account}\u0000${r.id}`;
    const existing = this.byKey.get(key);
    const { recipients, ...rest } = r;
    if (existing) {
      if (recipients) existing.recipients = countIn(existing.recipients ?? {}, recipients);
      existing.count++;
      existing.lastAt = now;
      if (!existing.decrypted && r.decrypted) Object.assign(existing, { text: r.text, kind: r.kind, decrypted: true });
      return { entry: existing, duplicate: true };
    }
    const chatKey = `${r.account}\u0000${r.chat}`;
    const chatSeq = (this.chatCounters.get(chatKey) ?? 0) + 1;
    this.chatCounters.set(chatKey, chatSeq);
    const entry: LedgerEntry = {
      ...rest,
      ...(recipients ? { recipients: countIn({}, recipients) } : {}),
      seq: this.entries.length + 1,
      chatSeq,
      count: 1,
      firstAt: now,
      lastAt: now,
    };
    this.entries.push(entry);
    this.byKey.set(key, entry);
    return { entry, duplicate: false };
  }

  query(q: LedgerQuery = {}): LedgerEntry[] {
    return this.entries
      .filter(
        (e) => (q.account === undefined || e.account === q.account) && (q.chat === undefined || e.chat === q.chat),
      )
      .map((e) => ({ ...e, ...(e.recipients ? { recipients: { ...e.recipients } } : {}) }));
  }

  get size(): number {
    return this.entries.length;
  }

  clear(): void {
    this.entries.length = 0;
    this.byKey.clear();
    this.chatCounters.clear();
  }
}

function countIn(counts: Record<string, number>, devices: string[]): Record<string, number> {
  for (const d of devices) counts[d] = (counts[d] ?? 0) + 1;
  return counts;
}

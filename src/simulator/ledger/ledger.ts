// Everything the accounts sent, by message id: a test asserts "each message exactly once, in
// order" against it. A message id seen again (a resend after reconnect) bumps `count` on the
// first entry instead of adding a second one, so duplicates are visible, not hidden.
// Messages contacts pushed to the accounts are kept apart (direction 'in'), with their own
// sequence numbers, so the outbound view is exactly what it always was.
import type { ContentFields } from './content.js';

export type Direction = 'out' | 'in';

/** What the simulator found when it fetched and decrypted a media message's blob. */
export interface MediaCheck {
  /** sha256 (hex) of the plaintext the simulator decrypted from the stored blob. */
  plainSha256?: string;
  /** Plaintext size in bytes. */
  plainSize?: number;
  /** Why the blob could not be checked (not uploaded, bad MAC, …). */
  mediaError?: string;
}

export interface LedgerEntry extends Partial<ContentFields>, MediaCheck {
  /** Arrival order over the whole simulator (1-based), per direction. */
  seq: number;
  /** Arrival order within (account, chat) (1-based), per direction. */
  chatSeq: number;
  account: string;
  /** Canonical chat: the contact's phone-number jid. */
  chat: string;
  id: string;
  /** Decrypted text; undefined when the message was not text or could not be decrypted. */
  text: string | undefined;
  /** What the message held: 'text', or the first proto.Message field name. */
  kind: string;
  decrypted: boolean;
  /** 'out': the account sent it; 'in': a contact pushed it (POST /inbound). */
  direction: Direction;
  /** Times this id arrived; > 1 means the client sent it again. */
  count: number;
  firstAt: number;
  lastAt: number;
}

export interface LedgerRecord extends Partial<ContentFields>, MediaCheck {
  account: string;
  chat: string;
  id: string;
  text: string | undefined;
  kind: string;
  decrypted: boolean;
  direction?: Direction;
}

export interface LedgerQuery {
  account?: string;
  chat?: string;
  /** 'out' (default): what accounts sent; 'in': what contacts pushed. */
  direction?: Direction;
}

export class Ledger {
  private readonly entries: LedgerEntry[] = [];
  private readonly byKey = new Map<string, LedgerEntry>();
  private readonly counters = new Map<string, number>();

  /** Records an arrival; returns the entry and whether it was a duplicate. */
  record(r: LedgerRecord, now = Date.now()): { entry: LedgerEntry; duplicate: boolean } {
    const direction = r.direction ?? 'out';
    // Ids are unique per sender, so the account (and direction) is part of the key.
    const key = `${direction}\u0000${r.account}\u0000${r.id}`;
    const existing = this.byKey.get(key);
    if (existing) {
      existing.count++;
      existing.lastAt = now;
      if (!existing.decrypted && r.decrypted) Object.assign(existing, { ...r, direction, decrypted: true });
      return { entry: existing, duplicate: true };
    }
    const seq = this.next(direction);
    const chatSeq = this.next(`${direction}\u0000${r.account}\u0000${r.chat}`);
    const entry: LedgerEntry = { ...r, direction, seq, chatSeq, count: 1, firstAt: now, lastAt: now };
    this.entries.push(entry);
    this.byKey.set(key, entry);
    return { entry, duplicate: false };
  }

  query(q: LedgerQuery = {}): LedgerEntry[] {
    const direction = q.direction ?? 'out';
    return this.entries
      .filter(
        (e) =>
          e.direction === direction &&
          (q.account === undefined || e.account === q.account) &&
          (q.chat === undefined || e.chat === q.chat),
      )
      .map((e) => structuredClone(e));
  }

  /** Outbound entries (what the accounts sent). */
  get size(): number {
    return this.entries.filter((e) => e.direction === 'out').length;
  }

  clear(): void {
    this.entries.length = 0;
    this.byKey.clear();
    this.counters.clear();
  }

  private next(counter: string): number {
    const n = (this.counters.get(counter) ?? 0) + 1;
    this.counters.set(counter, n);
    return n;
  }
}

/**
 * Inbound messages become `message.in` facts, each WhatsApp message id once: after a
 * reconnect WhatsApp may deliver again (offline `append`) what was read before the drop.
 * One Baileys could not decrypt becomes `message.undecryptable` (once per id); it is not
 * "seen", so the copy the sender re-encrypts for Baileys' retry receipt still becomes its
 * one `message.in`. An id already delivered is never reported undecryptable afterwards.
 */
import type { InboundMessage } from '../baileys/connection.js';
import type { UndecryptableMessage } from '../baileys/undecryptable.js';
import { Lru } from './lru.js';
import type { FactSink } from './port.js';

/** Inbound message ids remembered to drop a redelivery (offline `append` after a reconnect). */
const INBOUND_DEDUP_SIZE = 10_000;

export class Inbound {
  private readonly seen = new Lru<true>(INBOUND_DEDUP_SIZE);
  /** Ids reported undecryptable: Baileys retries up to 5 times, each failure is one more stub. */
  private readonly undecryptable = new Lru<true>(INBOUND_DEDUP_SIZE);

  constructor(
    private readonly account: string,
    private readonly sink: FactSink,
  ) {}

  received(m: InboundMessage): void {
    if (this.seen.has(m.waMessageId)) return;
    this.seen.set(m.waMessageId, true);
    this.sink({
      account: this.account,
      type: 'message.in',
      waMessageId: m.waMessageId,
      from: m.from,
      chat: m.chat,
      ...(m.text !== undefined ? { text: m.text } : {}),
      timestamp: new Date(m.timestamp).toISOString(),
    });
  }

  failedToDecrypt(m: UndecryptableMessage): void {
    if (this.seen.has(m.waMessageId) || this.undecryptable.has(m.waMessageId)) return;
    this.undecryptable.set(m.waMessageId, true);
    this.sink({
      account: this.account,
      type: 'message.undecryptable',
      waMessageId: m.waMessageId,
      from: m.from,
      chat: m.chat,
      reason: m.reason,
      timestamp: new Date(m.timestamp).toISOString(),
    });
  }
}

/**
 * The facts of outgoing sends (`send.sent|acked|failed|expired`), reported in the order
 * they happened. Baileys reads the server's ack of a message before its `sendMessage`
 * resolves (it still awaits its own bookkeeping after the write), so a `send.sent`
 * reported on resolve followed the `send.acked` for ~90% of sends (issue 11). An ack,
 * an error ack or a receipt proves the message was written: the `send.sent` it
 * overtook is reported first, and not again when the write resolves.
 */
import type { WireError } from '../contract/index.js';
import type { FactSink } from './port.js';

export class SendFacts {
  /** Send id → the WhatsApp message id it is being written with. */
  private readonly writing = new Map<string, string>();

  constructor(
    private readonly account: string,
    private readonly sink: FactSink,
    /** The send reached WhatsApp (its `send.sent` was reported). */
    private readonly onSent: (id: string) => void = () => undefined,
  ) {}

  /** The send is being handed to the socket. */
  started(id: string, waMessageId: string): void {
    this.writing.set(id, waMessageId);
  }

  /** The socket took it, or the server answered it: `send.sent`, once per write. */
  written(id: string): void {
    const waMessageId = this.writing.get(id);
    if (waMessageId === undefined) return;
    this.writing.delete(id);
    this.sink({ account: this.account, type: 'send.sent', id, waMessageId });
    this.onSent(id);
  }

  /** The write failed: no `send.sent` may follow. */
  abandoned(id: string): void {
    this.writing.delete(id);
  }

  /** Settled as failed; a write still under way reports nothing after this. */
  failed(
    id: string,
    error: WireError,
    outcome: { retryable?: boolean; statusCode?: number; reason?: string } = {},
  ): void {
    this.abandoned(id);
    this.sink({ account: this.account, type: 'send.failed', id, error, ...outcome });
  }

  expired(id: string): void {
    this.sink({ account: this.account, type: 'send.expired', id });
  }

  acked(id: string, ack: 'server' | 'delivered' | 'read'): void {
    this.written(id);
    this.sink({ account: this.account, type: 'send.acked', id, ack });
  }
}

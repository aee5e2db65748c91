/**
 * The send IO of one account: a send comes down once (`submit`), and from there this
 * file holds its payload, times its deadline, writes it when the machine dispatches it,
 * and turns the server's acks and receipts into machine events and facts
 * (send-facts.ts). Whether a send is held, dispatched, replayed or expired is the
 * machine's decision (machines/account/machine.ts).
 */
import type { Logger } from 'pino';
import type { AccountEvent, AccountSnapshot, SendFailure } from '../../machines/index.js';
import { isConnectionGone } from '../baileys/connection.js';
import { refusalOf } from '../baileys/refusals.js';
import type { AccountTimer } from './machine-timer.js';
import { Outbound } from './outbound.js';
import { contentOf, type FactSink, type MediaPort, type OutgoingSend } from './port.js';
import { SendFacts } from './send-facts.js';
import type { LiveConnection } from './socket-io.js';

export interface SendIoOptions {
  account: string;
  sink: FactSink;
  log: Logger;
  /** Where send deadlines are timed (the account's machine timer, on its clock). */
  timer: AccountTimer;
  /** The machine. */
  send(event: AccountEvent): void;
  snapshot(): AccountSnapshot;
  /** The account's socket now, if any. */
  current(): LiveConnection | null;
  /** Where media sends' bytes are (absent: a media send fails). */
  media?: MediaPort;
}

export class SendIo {
  private readonly outbound: Outbound;
  private readonly facts: SendFacts;
  /**
   * Sends go to the socket one after another. Baileys' sendMessage awaits several
   * steps (device lookup, prekeys, encryption) without a lock, so concurrent calls can
   * reach the wire out of order; chaining keeps the machine's dispatch order.
   */
  private chain = { connectionId: -1, tail: Promise.resolve() };

  constructor(private readonly o: SendIoOptions) {
    this.outbound = new Outbound(o.account);
    // Handed to WhatsApp, a send is not recalled: its deadline no longer applies.
    this.facts = new SendFacts(o.account, o.sink, (id) => o.timer.clearDeadline(id));
  }

  /**
   * A recorded send, handed over once: dispatched at once when the link is up, else held
   * in order; its deadline, if any, is timed here, and the machine expires it if it is
   * still held then. Every outcome comes back as a fact. The result is for logs and tests.
   */
  submit(send: OutgoingSend): 'dispatched' | 'held' | 'refused' {
    this.outbound.remember(send);
    // One already handed to WhatsApp before a restart is not recalled: no deadline.
    if (send.deadline !== undefined && send.waMessageId === undefined) {
      this.o.timer.armDeadline(send.id, Date.parse(send.deadline), () => this.o.send({ type: 'Expire', id: send.id }));
    }
    this.o.send({ type: 'Send', id: send.id });
    const c = this.o.snapshot().context;
    if (c.inFlight.includes(send.id)) return 'dispatched';
    if (c.outbox.includes(send.id)) return 'held';
    this.outbound.forget(send.id);
    this.o.timer.clearDeadline(send.id);
    return 'refused';
  }

  /** The machine dispatched a send on this connection: write it after those before it. */
  dispatch(id: string, connectionId: number): void {
    const live = this.o.current();
    if (!live || live.id !== connectionId) return; // the close that ended it requeues the send
    if (this.chain.connectionId !== connectionId) this.chain = { connectionId, tail: Promise.resolve() };
    this.chain.tail = this.chain.tail.then(() => this.write(id, live));
  }

  /**
   * The machine gave the send up: logged out (no `retryable`: pairing again decides),
   * refused by WhatsApp (retryable by its refusal table, refusals.ts), or refused before
   * it reached the wire (it would fail the same way again).
   */
  failed(p: SendFailure): void {
    this.outbound.forget(p.id);
    this.o.timer.clearDeadline(p.id);
    const error = {
      code: p.code === 'logged_out' ? ('logged_out' as const) : ('bad_request' as const),
      message: p.message,
    };
    if (p.code === 'logged_out') return this.facts.failed(p.id, error);
    if (p.statusCode === undefined) return this.facts.failed(p.id, error, { retryable: false });
    const { statusCode, reason, retryable } = refusalOf(String(p.statusCode));
    this.facts.failed(p.id, error, { retryable, statusCode, reason });
  }

  /** The machine expired a held send at its deadline. */
  expired(id: string): void {
    this.o.log.info({ sendId: id }, 'send deadline passed while held: expired');
    this.outbound.forget(id);
    this.facts.expired(id);
  }

  /** The server's `<ack class=message>`; with an error, a refusal for good. */
  serverAck(waMessageId: string, error: string | undefined): void {
    const id = this.outbound.sendIdOf(waMessageId);
    if (!id) return;
    if (error) {
      this.facts.written(id);
      const refusal = refusalOf(error);
      this.o.log.warn({ sendId: id, ...refusal }, 'WhatsApp refused the send');
      this.o.send({
        type: 'SendRejected',
        id,
        error: `WhatsApp refused the message (error ${error}: ${refusal.reason})`,
        statusCode: refusal.statusCode,
      });
      return;
    }
    this.outbound.acked(id, waMessageId);
    this.o.send({ type: 'SendAcked', id });
    this.facts.acked(id, 'server');
  }

  receipt(waMessageId: string, ack: 'delivered' | 'read'): void {
    const id = this.outbound.sendIdOf(waMessageId);
    if (id) this.facts.acked(id, ack);
  }

  /** The send a WhatsApp message id belongs to (receipts name the message). */
  sendIdOf(waMessageId: string): string | undefined {
    return this.outbound.sendIdOf(waMessageId);
  }

  /** For Baileys' getMessage (WhatsApp's retry requests). */
  message(waMessageId: string) {
    return this.outbound.message(waMessageId);
  }

  /**
   * A media send's bytes and upload record. The upload is kept on the payload (and
   * recorded as `send.uploaded`), so a replay on the next connection sends it again
   * without uploading; a restart gets it back from the stream.
   */
  private mediaIo(payload: OutgoingSend) {
    const content = contentOf(payload);
    if (!('media' in content)) return undefined;
    const ref = content.media;
    const media = this.o.media;
    return {
      ...(payload.uploaded ? { uploaded: payload.uploaded } : {}),
      read: () => (media ? media.read(ref) : Promise.reject(new Error('no media store'))),
      onUploaded: (uploaded: NonNullable<OutgoingSend['uploaded']>) => {
        payload.uploaded = uploaded;
        this.o.sink({ account: this.o.account, type: 'send.uploaded', id: payload.id, media: uploaded });
      },
    };
  }

  private async write(id: string, live: LiveConnection): Promise<void> {
    const connectionId = live.id;
    if (this.o.current() !== live) return; // closed while queued: requeued on close
    const payload = this.outbound.payload(id);
    if (!payload) {
      // Only a bug gets here; fail loudly rather than leave the send in flight forever.
      this.o.log.error({ sendId: id }, 'dispatch of a send without payload');
      this.o.send({ type: 'SendRejected', id, error: 'payload missing' });
      return;
    }
    const waMessageId = this.outbound.waMessageId(payload);
    this.facts.started(id, waMessageId);
    try {
      if (payload.content === undefined) await live.conn.sendText(payload.to, payload.text ?? '', waMessageId);
      else {
        const message = await live.conn.sendContent(payload.to, payload.content, waMessageId, this.mediaIo(payload));
        this.outbound.sentMessage(waMessageId, message);
      }
      this.facts.written(id);
    } catch (err) {
      this.facts.abandoned(id);
      // The socket is going away (its close may come after this error): the send stays
      // in flight and the close requeues it.
      if (this.o.current()?.id !== connectionId || isConnectionGone(err)) return;
      // Refused before it reached the wire (no such number, encryption failed): it would
      // fail the same way again, so it fails now rather than sit in flight.
      const message = err instanceof Error ? err.message : String(err);
      this.o.log.warn({ sendId: id, err: message }, 'send failed before reaching WhatsApp');
      this.o.send({ type: 'SendRejected', id, error: message });
    }
  }
}

/**
 * The send path of the NATS layer: `send` commands, the hand-over of recorded sends to
 * the runtime, and the outbox recovery on start. A send goes down the seam once
 * (`AccountsPort.submit`); holding, deadlines, dispatch and replay are the runtime's,
 * and everything after comes back up as facts.
 *
 * Order of things for a new send (docs/architecture.md, "Exactly-once sends"):
 * 1. `decideSend` (send-decision.ts): the event to record, a repeat's answer, or an error;
 * 2. `send.queued` is published and acked (and applied to the projection);
 * 3. only then is it handed to the runtime (`AccountsPort.submit`);
 * 4. the reply says `queued` with the event's seq.
 * A crash before 1 completes leaves nothing (the client saw no success and retries with
 * the same id); after 1, the outbox in the stream has it and recovery submits it.
 * The same id again never reaches `submit` a second time: the projection (acked) or the
 * set of unsettled records (in flight) answers instead.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  isMediaKind,
  type MediaRef,
  type OkReplyOf,
  type SendCommand,
  WaError,
  type WaEvent,
} from '../contract/index.js';
import type { MediaResolver } from '../media/resolver.js';
import type { AccountsPort, OutgoingSend } from '../runtime/port.js';
import { Adoptions } from './adoption.js';
import type { EventPublisher } from './event-publisher.js';
import type { Projection, QueuedSend, SendRecord } from './projection.js';
import { decideRecovery, decideSend, type PendingSend, queuedFact } from './send-decision.js';

export type SendsOptions = {
  accounts: AccountsPort;
  /** Accounts being adopted get `unavailable`, not `unknown_account` (default: none are). */
  adoptions?: Adoptions;
  publisher: EventPublisher;
  projection: Projection;
  /** Takes a media send's bytes into `WA_MEDIA` before it is recorded (absent: media sends are refused). */
  media?: MediaResolver;
  logger: Logger;
  /** How long a `send` waits for its `send.queued` ack before replying `unavailable`. */
  recordTimeoutMs: number;
  now?: () => number;
  newId?: () => string;
};

export class Sends {
  /** account\0id → the record of a send whose `send.queued` is not acked or dropped yet, and its request's fingerprint. */
  readonly #unsettled = new Map<string, { recorded: Promise<WaEvent>; request: string }>();
  readonly #now: () => number;
  readonly #newId: () => string;
  readonly #adoptions: Adoptions;

  constructor(private readonly o: SendsOptions) {
    this.#adoptions = o.adoptions ?? new Adoptions(o.accounts);
    this.#now = o.now ?? Date.now;
    this.#newId = o.newId ?? randomUUID;
  }

  async send(cmd: SendCommand): Promise<OkReplyOf<'send'>> {
    const account = this.#adoptions.require(cmd.account);
    const id = cmd.id ?? this.#newId();
    const key = `${account}\u0000${id}`;
    const pending = this.#unsettled.get(key);
    const decision = decideSend(
      { ...cmd, account, id },
      {
        account: { state: this.o.accounts.state(account), paired: this.o.accounts.isPaired(account) },
        ...optional('recorded', this.o.projection.send(account, id)),
        ...optional('unsettled', pending?.request),
        message: (waMessageId) => this.o.projection.message(account, waMessageId),
        now: this.#now(),
      },
    );
    if (decision instanceof WaError) throw decision;
    switch (decision.kind) {
      case 'repeat':
        return reply(id, decision.record);
      case 'join':
        return this.await(account, id, pending!.recorded, 'an earlier request with this id');
      case 'record':
        return this.record(key, decision.send);
      default: {
        const unreachable: never = decision;
        return unreachable;
      }
    }
  }

  /**
   * Media first (a URL fetched, inline bytes stored: not bounded by the record timeout,
   * the fetch has its own), then `send.queued`; the send is unsettled from the start so
   * the same id arriving meanwhile joins instead of fetching again.
   */
  private async record(key: string, send: PendingSend): Promise<OkReplyOf<'send'>> {
    const { account, id, content } = send;
    let ticket: { withdraw: () => boolean } | undefined;
    const publish = (ref?: MediaRef) => {
      const t = this.o.publisher.record(queuedFact(send, ref));
      ticket = t;
      return t.acked;
    };
    // Without media the record is published at once, as it always was.
    const media = isMediaKind(content.kind) ? this.resolveMedia(send) : undefined;
    // Hand-over happens on the ack, whenever it comes: a reply that already said
    // `unavailable` does not stop a send the stream did record from going out.
    const recorded = (media ? media.then(publish) : publish()).then((event: WaEvent) => {
      if (event.type === 'send.queued') {
        const q = this.o.projection.view(account).outbox.get(id);
        if (q) this.handOver(account, q);
      }
      return event;
    });
    recorded.catch(() => undefined);
    this.#unsettled.set(key, { recorded, request: send.fingerprint });
    recorded.then(
      () => this.#unsettled.delete(key),
      () => this.#unsettled.delete(key),
    );
    await media;
    return this.await(account, id, recorded, 'the send', () => ticket?.withdraw() ?? false);
  }

  private resolveMedia(send: PendingSend) {
    const { content } = send;
    if (!this.o.media || !isMediaKind(content.kind) || !('media' in content)) {
      return Promise.reject(new WaError('unavailable', 'this gateway has no media store (WA_MEDIA)'));
    }
    return this.o.media.resolve(send.account, send.id, content);
  }

  /** Settles once every send of the account whose `send.queued` was in flight is recorded (or dropped) and handed over. */
  async settled(account: string): Promise<void> {
    const prefix = `${account}\u0000`;
    const pending = [...this.#unsettled].filter(([k]) => k.startsWith(prefix)).map(([, u]) => u.recorded);
    await Promise.allSettled(pending);
  }

  /** Hands the stream's outbox of an account to the runtime, in queue order (start or takeover). */
  recover(account: string): { submitted: number; expired: number } {
    let submitted = 0;
    let expired = 0;
    for (const q of this.o.projection.outbox(account)) {
      if (decideRecovery(q, this.#now()) === 'expire') {
        this.o.publisher.sink({ account, type: 'send.expired', id: q.id });
        expired++;
        continue;
      }
      this.handOver(account, q);
      submitted++;
    }
    return { submitted, expired };
  }

  /** `accounts.remove`: nothing queued for the account may stay "in flight" forever. */
  failOutbox(account: string, message: string): number {
    const outbox = this.o.projection.outbox(account);
    for (const q of outbox) {
      this.o.publisher.sink({ account, type: 'send.failed', id: q.id, error: { code: 'unknown_account', message } });
    }
    return outbox.length;
  }

  private handOver(account: string, q: QueuedSend): void {
    const log = this.o.logger.child({ account });
    const send: OutgoingSend =
      q.content.kind === 'text' && q.content.replyTo === undefined
        ? { id: q.id, to: q.to, text: q.content.text }
        : { id: q.id, to: q.to, content: q.content };
    if (q.uploaded !== undefined) send.uploaded = q.uploaded;
    if (q.deadline !== undefined) send.deadline = q.deadline;
    if (q.waMessageId !== undefined) send.waMessageId = q.waMessageId;
    try {
      if (!this.o.accounts.has(account))
        throw new WaError('unknown_account', `account "${account}" was removed before the send was handed over`);
      this.o.accounts.submit(account, send);
    } catch (err) {
      // Recorded but not handed over: fail it so it is not left queued forever.
      const error =
        err instanceof WaError
          ? err.toWire()
          : { code: 'internal' as const, message: 'the runtime could not take the send' };
      log.error({ err, id: q.id }, 'submit failed; recording send.failed');
      this.o.publisher.sink({ account, type: 'send.failed', id: q.id, error });
      return;
    }
    log.debug({ id: q.id, seq: q.seq, resend: q.waMessageId !== undefined }, 'send handed to the runtime');
  }

  private async await(
    account: string,
    id: string,
    recorded: Promise<WaEvent>,
    what: string,
    withdraw?: () => boolean,
  ): Promise<OkReplyOf<'send'>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.o.recordTimeoutMs);
    });
    try {
      const first = await Promise.race([recorded, timeout]);
      if (first === 'timeout') {
        if (withdraw?.()) {
          throw new WaError(
            'unavailable',
            `the event stream did not take send "${id}" within ${this.o.recordTimeoutMs} ms; nothing was recorded, retry`,
          );
        }
        throw new WaError(
          'unavailable',
          `${what} (id "${id}") is not acknowledged by the event stream yet; retry with the same id`,
        );
      }
      // A new send is `queued` (that is what was recorded); a repeat reports how far it got.
      const rec = withdraw ? undefined : this.o.projection.send(account, id);
      return rec ? reply(id, rec) : { ok: true, id, status: 'queued', seq: first.seq };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `{ [key]: value }`, or nothing when the value is undefined (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]: V });
}

function reply(id: string, rec: SendRecord): OkReplyOf<'send'> {
  const r: OkReplyOf<'send'> = { ok: true, id, status: rec.status, seq: rec.seq };
  if (rec.status === 'failed' && rec.error) r.error = rec.error;
  return r;
}

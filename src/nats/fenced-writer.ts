/**
 * One account's writes to `WA_EVENTS`, fenced as docs/architecture.md ("Fencing one
 * writer per account") decides for nats-server 2.9:
 * - `fence()` writes a `Wa-Fence: <writer>` marker on every event subject of the
 *   account and learns each subject's last stream sequence from the acks;
 * - every event publish carries `Nats-Msg-Id: <account>:<writer>:<seq>` and
 *   `Nats-Expected-Last-Subject-Sequence` = the last sequence this writer saw there;
 * - a 10071 ("wrong last sequence") means another writer took over, unless the
 *   subject's last message carries our own msg id (a retry of a stored publish after
 *   the duplicate window): then the publish had succeeded.
 * Transient failures (timeouts, NATS away) are thrown as they come; the publisher
 * retries them with the same msg id and expectation.
 */
import { type JetStreamClient, JetStreamApiError, type JetStreamManager, type PubAck } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import {
  encodeEvent,
  EVENTS_STREAM,
  eventMsgId,
  evtSubject,
  FENCE_HEADER,
  fenceSubjects,
  retentionClass,
  type WaEvent,
} from '../contract/index.js';

/** JetStream API error: the expected last (subject) sequence did not match. */
export const WRONG_LAST_SEQUENCE = 10071;
/** Header JetStream stores the msg id under. */
const MSG_ID_HEADER = 'Nats-Msg-Id';

/** Another writer fenced this one off the account: stop writing it, do not retry. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(
    readonly account: string,
    readonly subject: string,
    options?: { cause?: unknown },
  ) {
    super(`writer fenced off account ${account} (on ${subject})`, options);
  }
}

/** The server will never take this event (e.g. bigger than its max payload): retrying cannot help. */
export class RejectedError extends Error {
  override readonly name = 'RejectedError';
}

export function isFenced(err: unknown): err is FencedError {
  return err instanceof FencedError;
}

export type WriteResult = { streamSeq: number; duplicate: boolean };

export class FencedWriter {
  /** subject → last stream sequence this writer knows of there. */
  readonly #expected = new Map<string, number>();

  constructor(
    readonly account: string,
    readonly writerId: string,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly publishTimeoutMs: number,
  ) {}

  /** Takes the account over: one header-only marker per event subject; returns how many. */
  async fence(): Promise<number> {
    const subjects = fenceSubjects(this.account);
    await Promise.all(
      subjects.map(async (subject) => {
        const h = headers();
        h.set(FENCE_HEADER, this.writerId);
        const ack = await this.js.publish(subject, undefined, { headers: h, timeout: this.publishTimeoutMs });
        this.#expected.set(subject, ack.seq);
      }),
    );
    return subjects.length;
  }

  /**
   * Publishes one event. Idempotent: calling it again for the same event (after a
   * timeout) stores nothing twice and returns the original stream sequence.
   */
  async write(event: WaEvent): Promise<WriteResult> {
    const subject = evtSubject(this.account, event.type);
    const msgID = eventMsgId(this.account, this.writerId, event.seq, retentionClass(event.type));
    const expected = this.#expected.get(subject) ?? 0;
    let ack: PubAck;
    try {
      ack = await this.js.publish(subject, encodeEvent(event), {
        msgID,
        expect: { lastSubjectSequence: expected },
        timeout: this.publishTimeoutMs,
      });
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE) {
        return this.ownedOrFenced(subject, msgID, err);
      }
      if (isPermanent(err)) throw new RejectedError(`server refused ${subject}`, { cause: err });
      throw err;
    }
    this.#expected.set(subject, ack.seq);
    return { streamSeq: ack.seq, duplicate: ack.duplicate };
  }

  /** 10071: ours if the subject's last message is this very publish, else fenced. */
  private async ownedOrFenced(subject: string, msgID: string, cause: unknown): Promise<WriteResult> {
    const last = await this.jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subject });
    if (last && last.header?.get(MSG_ID_HEADER) === msgID) {
      this.#expected.set(subject, last.seq);
      return { streamSeq: last.seq, duplicate: true };
    }
    throw new FencedError(this.account, subject, { cause });
  }
}

/** Errors no retry can fix. Everything else (timeouts, no responders, disconnects) is transient. */
function isPermanent(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  // nats-core refuses a payload above the server's max_payload before sending it.
  if (/max(imum)? payload/i.test(err.message)) return true;
  // 10054: message size exceeds the stream's maximum message size.
  return err instanceof JetStreamApiError && err.code === 10054;
}

/**
 * The `send` command's decision, in the manner of Emmett's `decide`: what the gateway
 * knows about the account and the send id, and the command, in; the event to record,
 * the answer of a repeat, or the typed error out. Pure: no NATS, no runtime, no clock.
 * `sends.ts` gathers the state and carries the decision out.
 */
import type { AccountStateName } from '../../machines/index.js';
import { type SendCommand, WaError } from '../contract/index.js';
import type { FactOf } from '../runtime/port.js';
import type { QueuedSend, SendRecord } from './projection.js';
import { requestFingerprint } from './projection.js';

/** A send command whose id is settled (the client's, or one the gateway generated). */
export type IdentifiedSend = SendCommand & { id: string };

/** What the decision needs to know, read before it is made. */
export type SendState = {
  /** The account as the runtime has it now. */
  account: { state: AccountStateName; paired: boolean };
  /** This id's record in the projection: its `send.queued` is acked. */
  recorded?: SendRecord;
  /** The request fingerprint of an earlier send with this id whose `send.queued` is not acked yet. */
  unsettled?: string;
  /** Gateway time, epoch ms. */
  now: number;
};

export type SendDecision =
  /** A new send: record this event, then hand the send to the runtime. */
  | { kind: 'record'; event: FactOf<'send.queued'> }
  /** The same request again, recorded before: answer with how far it got. */
  | { kind: 'repeat'; record: SendRecord }
  /** The same request again while its first `send.queued` is still being recorded: wait for it. */
  | { kind: 'join' };

export function decideSend(cmd: IdentifiedSend, s: SendState): SendDecision | WaError {
  const { account, id } = cmd;
  const request = requestFingerprint(cmd.to, cmd.text);
  // A repeat is answered before anything about the account: a send recorded before a
  // logout still reports how it ended.
  if (s.recorded) return s.recorded.request === request ? { kind: 'repeat', record: s.recorded } : conflict(id);
  if (s.unsettled !== undefined) return s.unsettled === request ? { kind: 'join' } : conflict(id);
  if (s.account.state === 'loggedOut') {
    return new WaError('logged_out', `account "${account}" is logged out; pair it again before sending`);
  }
  // Queued, it would wait for a pairing nobody may ever do: say so now instead.
  if (!s.account.paired) {
    return new WaError(
      'not_paired',
      `account "${account}" is not paired with a phone yet; pair it (wa.cmd.${account}.pair) before sending`,
    );
  }
  if (cmd.deadline !== undefined && Date.parse(cmd.deadline) <= s.now) {
    return new WaError(
      'bad_request',
      `deadline ${cmd.deadline} has already passed (gateway time ${new Date(s.now).toISOString()})`,
    );
  }
  const event: FactOf<'send.queued'> = {
    account,
    type: 'send.queued',
    id,
    to: cmd.to,
    kind: 'text',
    text: cmd.text,
  };
  if (cmd.deadline !== undefined) event.deadline = cmd.deadline;
  return { kind: 'record', event };
}

/**
 * A send the stream shows queued when an account is taken over: held past its deadline
 * while no gateway ran, and never handed to WhatsApp, it expires instead of going out
 * late; anything else goes to the runtime again.
 */
export function decideRecovery(q: QueuedSend, now: number): 'expire' | 'resubmit' {
  const expired = q.deadline !== undefined && Date.parse(q.deadline) <= now && q.waMessageId === undefined;
  return expired ? 'expire' : 'resubmit';
}

/** An idempotency key names one request, as in payment APIs: the text is not echoed back. */
function conflict(id: string): WaError {
  return new WaError(
    'conflict',
    `send id "${id}" was already used for a different request (recipient or text differ); use a new id for a new message`,
  );
}

/**
 * The `send` command's decision, in the manner of Emmett's `decide`: what the gateway
 * knows about the account and the send id, and the command, in; the event to record,
 * the answer of a repeat, or the typed error out. Pure: no NATS, no runtime, no clock.
 * `sends.ts` gathers the state, resolves media (media.ts) and carries the decision out.
 */
import type { AccountStateName } from '../../machines/index.js';
import {
  type MediaRef,
  type QueuedContent,
  requestFingerprint,
  type SendCommand,
  type SendContent,
  type TargetKey,
  WaError,
} from '../contract/index.js';
import type { FactOf } from '../runtime/port.js';
import type { KnownMessage } from './message-index.js';
import type { QueuedSend, SendRecord } from './projection.js';

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
  /** Messages of the account the stream knows (a reaction's, edit's, delete's or reply's target). */
  message: (waMessageId: string) => KnownMessage | undefined;
  /** Gateway time, epoch ms. */
  now: number;
};

/** A new send before its media is resolved: `queuedFact` turns it into the `send.queued` to record. */
export type PendingSend = {
  account: string;
  id: string;
  to: string;
  content: SendContent;
  fingerprint: string;
  deadline?: string;
  target?: TargetKey;
  quoted?: TargetKey;
};

export type SendDecision =
  /** A new send: resolve its media, record its `send.queued`, then hand it to the runtime. */
  | { kind: 'record'; send: PendingSend }
  /** The same request again, recorded before: answer with how far it got. */
  | { kind: 'repeat'; record: SendRecord }
  /** The same request again while its first `send.queued` is still being recorded: wait for it. */
  | { kind: 'join' };

export function decideSend(cmd: IdentifiedSend, s: SendState): SendDecision | WaError {
  const { account, id, content } = cmd;
  const request = requestFingerprint(cmd.to, content);
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
  const send: PendingSend = { account, id, to: cmd.to, content, fingerprint: request };
  if (cmd.deadline !== undefined) send.deadline = cmd.deadline;
  if ('target' in content) {
    const target = targetOf(content, cmd.to, s.message);
    if (target instanceof WaError) return target;
    send.target = target;
  } else if (content.replyTo !== undefined) {
    const quoted = known(content.replyTo, 'quote', cmd.to, s.message);
    if (quoted instanceof WaError) return quoted;
    send.quoted = keyOf(content.replyTo, quoted);
  }
  return { kind: 'record', send };
}

/**
 * A reaction may name any message of the chat; an edit only one of our text messages,
 * a delete for everyone only one of ours (WhatsApp lets only group admins delete
 * other people's messages, and groups are not sends' recipients here).
 */
function targetOf(
  content: Extract<SendContent, { target: string }>,
  to: string,
  message: SendState['message'],
): TargetKey | WaError {
  const verb = content.kind === 'reaction' ? 'react to' : content.kind;
  const m = known(content.target, verb, to, message);
  if (m instanceof WaError) return m;
  if (content.kind !== 'reaction' && !m.fromMe) {
    return new WaError('bad_request', `cannot ${verb} message ${content.target}: it is not one this account sent`);
  }
  if (content.kind === 'edit' && m.kind !== 'text') {
    return new WaError('bad_request', `cannot edit message ${content.target}: only text messages can be edited`);
  }
  return keyOf(content.target, m);
}

function known(waMessageId: string, verb: string, to: string, message: SendState['message']): KnownMessage | WaError {
  const m = message(waMessageId);
  if (!m) {
    return new WaError(
      'bad_request',
      `cannot ${verb} message ${waMessageId}: the event stream has no message with this id for the account (neither sent nor received)`,
    );
  }
  if (m.chat !== to) {
    return new WaError('bad_request', `cannot ${verb} message ${waMessageId}: it is in chat ${m.chat}, not ${to}`);
  }
  return m;
}

function keyOf(id: string, m: KnownMessage): TargetKey {
  const key: TargetKey = { id, fromMe: m.fromMe };
  if (m.participant !== undefined) key.participant = m.participant;
  return key;
}

/** The `send.queued` of a pending send, its media (if any) resolved into `WA_MEDIA`. */
export function queuedFact(send: PendingSend, media?: MediaRef): FactOf<'send.queued'> {
  const { account, id, to, content } = send;
  const fact: FactOf<'send.queued'> = { account, type: 'send.queued', id, to, kind: content.kind };
  if (content.kind === 'text' && content.replyTo === undefined) {
    fact.text = content.text;
  } else {
    const queued = { ...content } as Record<string, unknown>;
    if (media) {
      queued.media = media;
      delete queued.mimetype;
    }
    if (send.target) queued.target = send.target;
    if (send.quoted) queued.quoted = send.quoted;
    fact.content = queued as QueuedContent;
    fact.fingerprint = send.fingerprint;
  }
  if (send.deadline !== undefined) fact.deadline = send.deadline;
  return fact;
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

/** An idempotency key names one request, as in payment APIs: the content is not echoed back. */
function conflict(id: string): WaError {
  return new WaError(
    'conflict',
    `send id "${id}" was already used for a different request (recipient or content differ); use a new id for a new message`,
  );
}

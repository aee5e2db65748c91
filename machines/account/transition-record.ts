import type { AccountContext } from './context.js';
import type { AccountStateName } from './states.js';
import { closePolicy, UNREACHABLE } from './disconnect-policy.js';
import type { AccountEvent } from './events.js';

/** What the runtime publishes as a `transition` event for every state entered. */
export interface TransitionRecord {
  type: 'transition';
  from: AccountStateName;
  to: AccountStateName;
  event: AccountEvent['type'];
  reason?: string;
  statusCode?: number;
  /** With reason `unreachable`: the network error code (ENOTFOUND, ECONNREFUSED, …). */
  cause?: string;
}

/** Why the machine moved, in words an operator greps for. One switch, exhaustive. */
export function reasonOf(
  event: AccountEvent,
  context: AccountContext,
): { reason: string; statusCode?: number; cause?: string } {
  switch (event.type) {
    case 'SocketClosed':
      // Never reached the server: Baileys' 408/500 for it would be invented, so none.
      if (event.unreachable !== undefined) return { reason: UNREACHABLE.reason, cause: event.unreachable };
      // No status code: our own close (a drain ending) or a socket that just went away.
      return event.statusCode === undefined
        ? { reason: 'socketClosed' }
        : { reason: closePolicy(event.statusCode).reason, statusCode: event.statusCode };
    case 'ProbeTimedOut':
      // A deadline that passed while the event loop was blocked says nothing about the link.
      return { reason: event.stalledMs >= context.timings.stallThresholdMs ? 'eventLoopStalled' : 'keepaliveTimeout' };
    case 'AckTimedOut':
      return { reason: event.stalledMs >= context.timings.stallThresholdMs ? 'eventLoopStalled' : 'ackTimeout' };
    case 'ConnectTimedOut':
      return { reason: 'connectTimeout' };
    case 'IdleElapsed':
      return { reason: 'keepaliveDue' };
    case 'ProbeDue':
      return { reason: 'probeSent' };
    case 'ProbeAnswered':
      return { reason: 'probeAnswered' };
    case 'InboundReceived':
      return { reason: 'inboundTraffic' };
    case 'BackoffElapsed':
      return { reason: 'backoffElapsed' };
    case 'DrainTimedOut':
      return { reason: 'drainTimeout' };
    case 'SocketOpened':
      return { reason: 'loggedIn' };
    case 'QrReceived':
      return { reason: 'qrShown' };
    case 'PairingCodeIssued':
      return { reason: 'pairingCodeShown' };
    case 'Recycle':
      return { reason: event.reason ?? 'recycle' };
    case 'Connect':
      return { reason: 'operatorConnect' };
    case 'Disconnect':
      return { reason: 'operatorStop' };
    case 'Logout':
      return { reason: 'operatorLogout' };
    case 'Pair':
      return { reason: 'pairingRequested' };
    case 'Send':
    case 'Expire':
    case 'SendAcked':
    case 'SendRejected':
      return { reason: event.type };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

export function transitionRecord(
  from: AccountStateName,
  to: AccountStateName,
  event: AccountEvent,
  context: AccountContext,
): TransitionRecord {
  return { type: 'transition', from, to, event: event.type, ...reasonOf(event, context) };
}

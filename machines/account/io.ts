import { setup } from 'xstate';
import type { AccountContext, AccountInput } from './context.js';
import type { AccountEvent } from './events.js';
import type { TimerRequest, TimerSlot } from './timers.js';
import type { BanRecord } from './ban.js';
import type { TransitionRecord } from './transition-record.js';

/** Why a send did not go out; the runtime turns it into `send.failed`. */
export type SendFailure = { id: string; code: 'logged_out' | 'rejected'; message: string; statusCode?: number };

/**
 * The IO the account machine asks for. These are no-ops here: the runtime implements
 * each through `accountMachine.provide({ actions })`, and reports the outcome back as
 * a fact (events.ts). Tests provide recorders instead.
 */
export interface IoParams {
  openSocket: { connectionId: number; pairPhone: string | null };
  closeSocket: { connectionId: number };
  sendProbe: { connectionId: number; probeId: number };
  dispatchSend: { id: string; connectionId: number };
  failSend: SendFailure;
  expireSend: { id: string };
  startTimer: TimerRequest;
  stopTimer: { slot: TimerSlot };
  logout: { connectionId: number };
  clearCredentials: undefined;
}

/**
 * A reference to an IO action for `enqueue(...)`. XState types `enqueue` inside
 * `setup().extend()` for inline functions only, so the named reference is cast here,
 * once, after its params were checked against IoParams.
 */
export function io<K extends keyof IoParams>(
  type: K,
  ...params: IoParams[K] extends undefined ? [] : [IoParams[K]]
): never {
  return (params.length ? { type, params: params[0] } : { type }) as never;
}

export const accountIo = setup({
  types: {
    context: {} as AccountContext,
    events: {} as AccountEvent,
    input: {} as AccountInput,
    emitted: {} as TransitionRecord | BanRecord,
  },
  actions: {
    /** Create a socket (Baileys) tagged `connectionId`; pair with a code if `pairPhone`. */
    openSocket: (_, _params: IoParams['openSocket']) => {},
    /** End that socket; its SocketClosed is still expected. */
    closeSocket: (_, _params: IoParams['closeSocket']) => {},
    /** Send a keepalive probe (ping IQ, presence, or both); answer with ProbeAnswered. */
    sendProbe: (_, _params: IoParams['sendProbe']) => {},
    /** Hand a send to the socket, in call order; answer with SendAcked or SendRejected. */
    dispatchSend: (_, _params: IoParams['dispatchSend']) => {},
    failSend: (_, _params: IoParams['failSend']) => {},
    expireSend: (_, _params: IoParams['expireSend']) => {},
    /** Replace the timer of the request's slot: after `ms`, send `{ type: fires, token, at }`. */
    startTimer: (_, _params: IoParams['startTimer']) => {},
    stopTimer: (_, _params: IoParams['stopTimer']) => {},
    /** Unlink the device at WhatsApp if a socket is up; clear the credentials. */
    logout: (_, _params: IoParams['logout']) => {},
    clearCredentials: () => {},
  },
});

import { and, assign, enqueueActions } from 'xstate';
import { fullJitterDelay } from './backoff.js';
import { initialContext, MAX_DISCONNECTS, type AccountStateName, type DrainNext } from './context.js';
import { closePolicy, type CloseAction } from './disconnect-policy.js';
import type { AccountEvent } from './events.js';
import { nextRandom } from './random.js';
import { accountIo, io } from './io.js';
import { TIMERS, type StateTimerName } from './timers.js';
import { reasonOf, transitionRecord } from './transition-record.js';

// Typed references to the parameterized guards, for use inside and([...]).
const closeIs = (action: CloseAction) => ({ type: 'closeIs', params: { action } }) as const;
const drainNextIs = (next: DrainNext) => ({ type: 'drainNextIs', params: { next } }) as const;

const eventAt = (event: AccountEvent): number | null => ('at' in event ? event.at : null);

/**
 * One WhatsApp account. Pure: the machine decides, the runtime acts. IO is requested
 * through the named actions below (no-ops here, implemented by src/ via
 * `machine.provide`), and comes back as facts (events.ts). Time and randomness come in
 * through events (`at`, timer firings) and the seeded PRNG in the context.
 */
export const accountMachine = accountIo.extend({
  actions: {
    // ── decisions ─────────────────────────────────────────────────────────
    /** Entry of every leaf state: emit the transition record, remember the state. */
    enter: enqueueActions(({ context, event, enqueue }, params: { state: AccountStateName }) => {
      // xstate.init is the actor starting, not a transition anyone should hear about.
      if ((event as { type: string }).type !== 'xstate.init') {
        enqueue.emit(transitionRecord(context.state, params.state, event, context));
      }
      enqueue.assign({ state: params.state });
    }),
    armTimer: enqueueActions(({ context, enqueue }, params: { name: StateTimerName }) => {
      const token = context.timerToken + 1;
      const timer = TIMERS[params.name];
      enqueue.assign({ timerToken: token, armed: params.name });
      enqueue(io('startTimer', { name: params.name, slot: 'state', fires: timer.fires, ms: timer.ms(context), token }));
    }),
    disarmTimer: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ timerToken: context.timerToken + 1, armed: null });
      enqueue(io('stopTimer', { slot: 'state' }));
    }),
    /**
     * The ack deadline follows the oldest send in flight: armed when it changes (a first
     * dispatch, or the previous oldest settled), stopped when nothing is in flight. Acks
     * of later sends do not restart it: the oldest must be acked in time.
     */
    trackAckDeadline: enqueueActions(({ context, enqueue }) => {
      const oldest = context.inFlight[0] ?? null;
      if (oldest === context.ackFor) return;
      const token = context.ackToken + 1;
      enqueue.assign({ ackToken: token, ackFor: oldest });
      if (oldest === null) enqueue(io('stopTimer', { slot: 'ack' }));
      else enqueue(io('startTimer', { name: 'ack', slot: 'ack', fires: TIMERS.ack.fires, ms: TIMERS.ack.ms(context), token }));
    }),
    /** Same send, a new period (the last one passed while the event loop was stalled). */
    rearmAckDeadline: enqueueActions(({ context, enqueue }) => {
      const token = context.ackToken + 1;
      enqueue.assign({ ackToken: token });
      enqueue(io('startTimer', { name: 'ack', slot: 'ack', fires: TIMERS.ack.fires, ms: TIMERS.ack.ms(context), token }));
    }),
    /** Leaving the link: what is still in flight is requeued or awaited by a drain. */
    stopAckDeadline: enqueueActions(({ context, enqueue }) => {
      if (context.ackFor === null) return;
      enqueue.assign({ ackToken: context.ackToken + 1, ackFor: null });
      enqueue(io('stopTimer', { slot: 'ack' }));
    }),
    newConnection: enqueueActions(({ context, enqueue }) => {
      const connectionId = context.connectionId + 1;
      enqueue.assign({ connectionId });
      enqueue(io('openSocket', { connectionId, pairPhone: context.pairPhone }));
    }),
    closeCurrentSocket: enqueueActions(({ context, enqueue }) => {
      enqueue(io('closeSocket', { connectionId: context.connectionId }));
    }),
    markOpened: assign(({ event }) => ({ openedAt: eventAt(event), pairPhone: null })),
    rememberPairPhone: assign(({ event }) => ({ pairPhone: event.type === 'Pair' ? (event.phone ?? null) : null })),
    recordDisconnect: assign(({ context, event }) => {
      const at = eventAt(event);
      // A long stable period means earlier failures are over: restart the backoff ladder.
      const stable =
        at !== null && context.openedAt !== null && at - context.openedAt >= context.timings.stableAfterMs;
      const unknown = event.type === 'SocketClosed' && !closePolicy(event.statusCode).known;
      return {
        lastDisconnects: [{ ...reasonOf(event, context), at }, ...context.lastDisconnects].slice(0, MAX_DISCONNECTS),
        unknownCloses: context.unknownCloses + (unknown ? 1 : 0),
        attempt: stable ? 0 : context.attempt,
        openedAt: null,
      };
    }),
    scheduleBackoff: assign(({ context }) => {
      const attempt = context.attempt + 1;
      const [backoffMs, rng] = fullJitterDelay(attempt, context.rng, context.timings);
      return { attempt, backoffMs, rng };
    }),
    pickProbeJitter: assign(({ context }) => {
      const [r, rng] = nextRandom(context.rng);
      return { jitterMs: Math.floor(r * context.timings.probeJitterMs), rng };
    }),
    startProbe: enqueueActions(({ context, enqueue }) => {
      const probeId = context.probeId + 1;
      enqueue.assign({ probeId });
      enqueue(io('sendProbe', { connectionId: context.connectionId, probeId }));
    }),
    recordProbeAnswer: assign(({ context, event }) =>
      event.type === 'ProbeAnswered'
        ? { keepalive: { ...context.keepalive, lastRttMs: event.rttMs, answered: context.keepalive.answered + 1 } }
        : {},
    ),
    resetStallRetries: assign({ stallRetries: 0 }),
    countStallRetry: assign(({ context }) => ({
      stallRetries: context.stallRetries + 1,
      keepalive: { ...context.keepalive, stallRetries: context.keepalive.stallRetries + 1 },
    })),
    countProbeTimeout: assign(({ context }) => ({
      keepalive: { ...context.keepalive, timedOut: context.keepalive.timedOut + 1 },
    })),

    // ── the send decision ─────────────────────────────────────────────────
    holdSend: assign(({ context, event }) =>
      event.type === 'Send' ? { outbox: [...context.outbox, event.id], accepted: context.accepted + 1 } : {},
    ),
    dispatchNow: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'Send') return;
      enqueue.assign({ inFlight: [...context.inFlight, event.id], accepted: context.accepted + 1 });
      enqueue(io('dispatchSend', { id: event.id, connectionId: context.connectionId }));
    }),
    /** On open, held sends go out in arrival order, before anything new. */
    flushOutbox: enqueueActions(({ context, enqueue }) => {
      if (context.outbox.length === 0) return;
      for (const id of context.outbox) {
        enqueue(io('dispatchSend', { id, connectionId: context.connectionId }));
      }
      enqueue.assign({ inFlight: [...context.inFlight, ...context.outbox], outbox: [] });
    }),
    /**
     * The connection is gone with sends unacknowledged: they go back to the head of the
     * outbox, ahead of later sends, and are dispatched again on the next open with the
     * same id (the runtime derives the WhatsApp message id from it, so the receiver
     * dedups a copy the server did get).
     */
    requeueInFlight: assign(({ context }) => ({ outbox: [...context.inFlight, ...context.outbox], inFlight: [] })),
    settleAcked: assign(({ context, event }) =>
      event.type === 'SendAcked'
        ? { inFlight: context.inFlight.filter((id) => id !== event.id), outbox: context.outbox.filter((id) => id !== event.id) }
        : {},
    ),
    settleRejected: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'SendRejected') return;
      enqueue.assign({
        inFlight: context.inFlight.filter((id) => id !== event.id),
        outbox: context.outbox.filter((id) => id !== event.id),
      });
      enqueue(io('failSend', { id: event.id, code: 'rejected', message: event.error }));
    }),
    expireHeld: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'Expire') return;
      enqueue.assign({ outbox: context.outbox.filter((id) => id !== event.id) });
      enqueue(io('expireSend', { id: event.id }));
    }),
    refuseSend: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'Send') return;
      enqueue(io('failSend', { id: event.id, code: 'logged_out', message: 'the account is logged out; pair it again' }));
    }),
    /** Logged out: nothing held can ever go out under these credentials. Fail, never drop. */
    failAllSends: enqueueActions(({ context, enqueue }) => {
      for (const id of [...context.inFlight, ...context.outbox]) {
        enqueue(io('failSend', { id, code: 'logged_out', message: 'the account was logged out before this send was acknowledged' }));
      }
      enqueue.assign({ inFlight: [], outbox: [] });
    }),

    // ── draining ──────────────────────────────────────────────────────────
    beginDrain: assign((_, params: { next: DrainNext }) => ({ drain: { next: params.next, closeRequested: false } })),
    redirectDrain: assign(({ context }, params: { next: DrainNext }) =>
      context.drain ? { drain: { ...context.drain, next: params.next } } : {},
    ),
    /** Close once nothing is in flight (acks awaited), or at once if forced. */
    closeWhenSettled: enqueueActions(({ context, enqueue }, params: { force: boolean }) => {
      if (!context.drain || context.drain.closeRequested) return;
      if (!params.force && context.inFlight.length > 0) return;
      enqueue(io('closeSocket', { connectionId: context.connectionId }));
      enqueue.assign({ drain: { ...context.drain, closeRequested: true } });
    }),
  },
  guards: {
    fromCurrentSocket: ({ context, event }) => 'connectionId' in event && event.connectionId === context.connectionId,
    timerArmed: ({ context, event }) => 'token' in event && event.token === context.timerToken,
    currentProbe: ({ context, event }) => event.type === 'ProbeAnswered' && event.probeId === context.probeId,
    closeIs: ({ event }, params: { action: CloseAction }) =>
      event.type === 'SocketClosed' && closePolicy(event.statusCode).action === params.action,
    /** 408 while a QR is shown: Baileys ran out of QR refs; nobody scanned. */
    pairingExpired: ({ event }) => event.type === 'SocketClosed' && event.statusCode === 408,
    drainNextIs: ({ context }, params: { next: DrainNext }) => context.drain?.next === params.next,
    isNewSend: ({ context, event }) =>
      event.type === 'Send' && !context.outbox.includes(event.id) && !context.inFlight.includes(event.id),
    isHeld: ({ context, event }) => event.type === 'Expire' && context.outbox.includes(event.id),
    isTracked: ({ context, event }) =>
      (event.type === 'SendAcked' || event.type === 'SendRejected') &&
      (context.outbox.includes(event.id) || context.inFlight.includes(event.id)),
    ackDeadlineArmed: ({ context, event }) => event.type === 'AckTimedOut' && event.token === context.ackToken && context.ackFor !== null,
    /** Unbounded, unlike the probe's: a loop that keeps stalling is caught by the keepalive. */
    ackStallEarnsRetry: ({ context, event }) => event.type === 'AckTimedOut' && event.stalledMs >= context.timings.stallThresholdMs,
    stallEarnsRetry: ({ context, event }) =>
      event.type === 'ProbeTimedOut' &&
      event.stalledMs >= context.timings.stallThresholdMs &&
      context.stallRetries < context.timings.maxStallRetries,
    inboundResetsIdle: ({ context }) => context.inboundResetsIdle,
  },
}).createMachine({
  id: 'account',
  context: ({ input }) => initialContext(input),
  initial: 'stopped',
  // Defaults for every state; states that treat these differently override them.
  on: {
    Send: { guard: 'isNewSend', actions: 'holdSend' },
    Expire: { guard: 'isHeld', actions: 'expireHeld' },
    // Outside `online` nothing is in flight, so only there does the deadline move.
    SendAcked: { guard: 'isTracked', actions: ['settleAcked', 'trackAckDeadline'] },
    SendRejected: { guard: 'isTracked', actions: ['settleRejected', 'trackAckDeadline'] },
    ProbeAnswered: { actions: 'recordProbeAnswer' },
  },
  states: {
    stopped: {
      entry: { type: 'enter', params: { state: 'stopped' } },
      on: {
        Connect: { target: 'connecting' },
        Pair: { target: 'connecting', actions: 'rememberPairPhone' },
        Logout: { target: 'loggedOut', actions: { type: 'logout', params: ({ context }) => ({ connectionId: context.connectionId }) } },
      },
    },

    connecting: {
      entry: [{ type: 'enter', params: { state: 'connecting' } }, 'newConnection', { type: 'armTimer', params: { name: 'connect' } }],
      exit: 'disarmTimer',
      on: {
        SocketOpened: { guard: 'fromCurrentSocket', target: 'online', actions: 'markOpened' },
        QrReceived: { guard: 'fromCurrentSocket', target: 'pairing' },
        PairingCodeIssued: { guard: 'fromCurrentSocket', target: 'pairing' },
        SocketClosed: [
          { guard: and(['fromCurrentSocket', closeIs('loggedOut')]), target: 'loggedOut', actions: 'recordDisconnect' },
          { guard: and(['fromCurrentSocket', closeIs('stop')]), target: 'stopped', actions: 'recordDisconnect' },
          { guard: and(['fromCurrentSocket', closeIs('reconnectNow')]), target: 'connecting', reenter: true, actions: 'recordDisconnect' },
          { guard: 'fromCurrentSocket', target: 'reconnecting', actions: 'recordDisconnect' },
        ],
        ConnectTimedOut: { guard: 'timerArmed', target: 'reconnecting', actions: ['closeCurrentSocket', 'recordDisconnect'] },
        Disconnect: { target: 'stopped', actions: 'closeCurrentSocket' },
        Logout: { target: 'loggedOut', actions: { type: 'logout', params: ({ context }) => ({ connectionId: context.connectionId }) } },
      },
    },

    // No SocketOpened here: WhatsApp sends <success> (Baileys' 'open') only to a registered
    // device, and a pairing socket is not one; it ends with 515 and the next login opens.
    pairing: {
      entry: { type: 'enter', params: { state: 'pairing' } },
      on: {
        SocketClosed: [
          // 515 after pair-success: the phone linked us; log in with the new credentials.
          { guard: and(['fromCurrentSocket', closeIs('reconnectNow')]), target: 'connecting', actions: 'recordDisconnect' },
          // Nobody scanned: stop rather than cycle QR codes forever; `pair` starts again.
          { guard: and(['fromCurrentSocket', 'pairingExpired']), target: 'stopped', actions: 'recordDisconnect' },
          { guard: and(['fromCurrentSocket', closeIs('loggedOut')]), target: 'loggedOut', actions: 'recordDisconnect' },
          { guard: and(['fromCurrentSocket', closeIs('stop')]), target: 'stopped', actions: 'recordDisconnect' },
          { guard: 'fromCurrentSocket', target: 'reconnecting', actions: 'recordDisconnect' },
        ],
        Disconnect: { target: 'stopped', actions: 'closeCurrentSocket' },
        Logout: { target: 'loggedOut', actions: { type: 'logout', params: ({ context }) => ({ connectionId: context.connectionId }) } },
      },
    },

    // Logged in. Sends go straight out in every child state.
    online: {
      initial: 'open',
      exit: 'stopAckDeadline',
      on: {
        Send: { guard: 'isNewSend', actions: ['dispatchNow', 'trackAckDeadline'] },
        SocketClosed: [
          { guard: and(['fromCurrentSocket', closeIs('loggedOut')]), target: 'loggedOut', actions: 'recordDisconnect' },
          { guard: and(['fromCurrentSocket', closeIs('stop')]), target: 'stopped', actions: ['recordDisconnect', 'requeueInFlight'] },
          { guard: and(['fromCurrentSocket', closeIs('reconnectNow')]), target: 'connecting', actions: ['recordDisconnect', 'requeueInFlight'] },
          { guard: 'fromCurrentSocket', target: 'reconnecting', actions: ['recordDisconnect', 'requeueInFlight'] },
        ],
        // The server lost a send or its ack. Go-back-N: that send and every later one go
        // out again, in order and under the same ids, on a new connection (a later one
        // the server did take is deduplicated by the receiver). The link is dead, not
        // slow: nothing to drain, its close may never come.
        AckTimedOut: [
          // The deadline passed while our own process was frozen: the ack may sit unread.
          { guard: and(['ackDeadlineArmed', 'ackStallEarnsRetry']), actions: 'rearmAckDeadline' },
          { guard: 'ackDeadlineArmed', target: 'reconnecting', actions: ['closeCurrentSocket', 'recordDisconnect', 'requeueInFlight'] },
        ],
        Recycle: { target: 'draining', actions: { type: 'beginDrain', params: { next: 'reconnectNow' } } },
        Disconnect: { target: 'draining', actions: { type: 'beginDrain', params: { next: 'stop' } } },
        Logout: { target: 'loggedOut', actions: { type: 'logout', params: ({ context }) => ({ connectionId: context.connectionId }) } },
      },
      states: {
        open: {
          entry: [{ type: 'enter', params: { state: 'open' } }, 'flushOutbox', 'trackAckDeadline', { type: 'armTimer', params: { name: 'idle' } }],
          exit: 'disarmTimer',
          on: {
            IdleElapsed: { guard: 'timerArmed', target: 'idle' },
            // Re-arming, not re-entering: inbound traffic must not publish a transition.
            InboundReceived: { guard: and(['fromCurrentSocket', 'inboundResetsIdle']), actions: { type: 'armTimer', params: { name: 'idle' } } },
          },
        },
        idle: {
          entry: [{ type: 'enter', params: { state: 'idle' } }, 'pickProbeJitter', { type: 'armTimer', params: { name: 'probeJitter' } }],
          exit: 'disarmTimer',
          on: {
            ProbeDue: { guard: 'timerArmed', target: 'pinging' },
            InboundReceived: { guard: and(['fromCurrentSocket', 'inboundResetsIdle']), target: 'open' },
          },
        },
        pinging: {
          entry: [{ type: 'enter', params: { state: 'pinging' } }, 'startProbe', { type: 'armTimer', params: { name: 'probe' } }],
          exit: 'disarmTimer',
          on: {
            ProbeAnswered: { guard: 'currentProbe', target: 'open', actions: ['recordProbeAnswer', 'resetStallRetries'] },
            // Any frame read proves the link carries traffic.
            InboundReceived: { guard: 'fromCurrentSocket', target: 'open', actions: 'resetStallRetries' },
            ProbeTimedOut: [
              // The deadline passed while our own process was frozen: probe again before
              // calling a healthy link dead (field stalls of 97–100 s dropped accounts).
              { guard: and(['timerArmed', 'stallEarnsRetry']), target: 'pinging', reenter: true, actions: 'countStallRetry' },
              // Dead: nothing to drain, and a blackholed socket's close never comes (Baileys'
              // end() waits out the WebSocket's 30 s close timeout); back off and reconnect.
              {
                guard: 'timerArmed',
                target: '#account.reconnecting',
                actions: ['countProbeTimeout', 'closeCurrentSocket', 'recordDisconnect', 'resetStallRetries', 'requeueInFlight'],
              },
            ],
          },
        },
      },
    },

    // A planned close of a live link (recycle, operator stop): in-flight acks are awaited
    // (up to drainTimeoutMs, then requeued), new sends are held, and the socket's close is
    // awaited so no event of the old socket can interleave with the next one. A dead link
    // is not drained (AckTimedOut, ProbeTimedOut).
    draining: {
      entry: [{ type: 'enter', params: { state: 'draining' } }, { type: 'armTimer', params: { name: 'drain' } }, { type: 'closeWhenSettled', params: { force: false } }],
      // `drain` stays in the context after exit: DrainTimedOut's actions still read it.
      exit: 'disarmTimer',
      on: {
        SendAcked: { guard: 'isTracked', actions: ['settleAcked', { type: 'closeWhenSettled', params: { force: false } }] },
        SendRejected: { guard: 'isTracked', actions: ['settleRejected', { type: 'closeWhenSettled', params: { force: false } }] },
        SocketClosed: [
          { guard: and(['fromCurrentSocket', closeIs('loggedOut')]), target: 'loggedOut', actions: 'recordDisconnect' },
          { guard: and(['fromCurrentSocket', closeIs('stop')]), target: 'stopped', actions: ['recordDisconnect', 'requeueInFlight'] },
          { guard: and(['fromCurrentSocket', drainNextIs('stop')]), target: 'stopped', actions: 'requeueInFlight' },
          { guard: 'fromCurrentSocket', target: 'connecting', actions: 'requeueInFlight' },
        ],
        DrainTimedOut: [
          { guard: and(['timerArmed', drainNextIs('stop')]), target: 'stopped', actions: ['requeueInFlight', { type: 'closeWhenSettled', params: { force: true } }] },
          { guard: 'timerArmed', target: 'connecting', actions: ['requeueInFlight', { type: 'closeWhenSettled', params: { force: true } }] },
        ],
        Disconnect: { actions: { type: 'redirectDrain', params: { next: 'stop' } } },
        Logout: { target: 'loggedOut', actions: { type: 'logout', params: ({ context }) => ({ connectionId: context.connectionId }) } },
      },
    },

    reconnecting: {
      entry: [{ type: 'enter', params: { state: 'reconnecting' } }, 'scheduleBackoff', { type: 'armTimer', params: { name: 'backoff' } }],
      exit: 'disarmTimer',
      on: {
        BackoffElapsed: { guard: 'timerArmed', target: 'connecting' },
        Connect: { target: 'connecting' },
        Disconnect: { target: 'stopped' },
        Logout: { target: 'loggedOut', actions: { type: 'logout', params: ({ context }) => ({ connectionId: context.connectionId }) } },
      },
    },

    // Final until a new pairing. Credentials are cleared only when an operator asks.
    loggedOut: {
      entry: [{ type: 'enter', params: { state: 'loggedOut' } }, 'failAllSends'],
      on: {
        Send: { actions: 'refuseSend' },
        Pair: { target: 'connecting', actions: ['clearCredentials', 'rememberPairPhone'] },
        Logout: { actions: 'clearCredentials' },
      },
    },
  },
});

export type AccountMachine = typeof accountMachine;

import { assign, enqueueActions } from 'xstate';
import { fullJitterDelay } from './backoff.js';
import { banOf } from './ban.js';
import type { AccountContext, DrainNext } from './context.js';
import type { AccountStateName } from './states.js';
import { closePolicy, type CloseAction } from './disconnect-policy.js';
import type { AccountEvent } from './events.js';
import { nextRandom } from './random.js';
import { accountIo, io } from './io.js';
import { TIMERS, type StateTimerName } from './timers.js';
import { transitionRecord } from './transition-record.js';

const eventAt = (event: AccountEvent): number | null => ('at' in event ? event.at : null);

/** The ack deadline's timer, armed with `token`. */
const ackTimer = (context: AccountContext, token: number) =>
  io('startTimer', { name: 'ack', slot: 'ack', fires: TIMERS.ack.fires, ms: TIMERS.ack.ms(context), token });

/**
 * The send settled: neither held nor in flight any more. Acks come in dispatch order, so
 * the settled send is nearly always the oldest in flight: that case drops the head and
 * leaves the outbox as it is (a send is never in both), instead of scanning both lists;
 * a replay of 10,000 held sends settles each against ~10,000 in flight (one array copy
 * per ack remains: the context stays immutable).
 */
const forget = (context: AccountContext, id: string) =>
  context.inFlight[0] === id
    ? { inFlight: context.inFlight.slice(1) }
    : {
        inFlight: context.inFlight.filter((x) => x !== id),
        outbox: context.outbox.filter((x) => x !== id),
      };

/**
 * What the account machine can decide, named by intent: the actions (IO it asks for,
 * through io.ts, and the context it keeps) and the guards its transitions use.
 * machine.ts arranges them into states.
 */
export const accountDecisions = accountIo.extend({
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
      enqueue.assign({ timerToken: token });
      enqueue(io('startTimer', { name: params.name, slot: 'state', fires: timer.fires, ms: timer.ms(context), token }));
    }),
    disarmTimer: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ timerToken: context.timerToken + 1 });
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
      else enqueue(ackTimer(context, token));
    }),
    /** Same send, a new period (the last one passed while the event loop was stalled). */
    rearmAckDeadline: enqueueActions(({ context, enqueue }) => {
      const token = context.ackToken + 1;
      enqueue.assign({ ackToken: token });
      enqueue(ackTimer(context, token));
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
    /**
     * The link is gone (its why is in the transition record). A long stable period
     * before it means earlier failures are over: restart the backoff ladder.
     */
    recordDisconnect: assign(({ context, event }) => {
      const at = eventAt(event);
      const stable = at !== null && context.openedAt !== null && at - context.openedAt >= context.timings.stableAfterMs;
      return { attempt: stable ? 0 : context.attempt, openedAt: null };
    }),
    /** 402: report the ban and make the coming backoff last until it ends; then a fresh ladder. */
    holdUntilBanEnds: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'SocketClosed') return;
      const ban = banOf(event, context);
      enqueue.emit(ban);
      enqueue.assign({ banWaitMs: ban.untilMs - event.at });
    }),
    scheduleBackoff: assign(({ context }) => {
      if (context.banWaitMs !== null) return { attempt: 0, backoffMs: context.banWaitMs, banWaitMs: null };
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
    resetStallRetries: assign({ stallRetries: 0 }),
    countStallRetry: assign(({ context }) => ({ stallRetries: context.stallRetries + 1 })),

    // ── the send decision ─────────────────────────────────────────────────
    holdSend: assign(({ context, event }) => (event.type === 'Send' ? { outbox: [...context.outbox, event.id] } : {})),
    dispatchNow: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'Send') return;
      enqueue.assign({ inFlight: [...context.inFlight, event.id] });
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
    settleAcked: assign(({ context, event }) => (event.type === 'SendAcked' ? forget(context, event.id) : {})),
    settleRejected: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'SendRejected') return;
      enqueue.assign(forget(context, event.id));
      const { id, error: message, statusCode } = event;
      enqueue(io('failSend', { id, code: 'rejected', message, ...(statusCode !== undefined ? { statusCode } : {}) }));
    }),
    expireHeld: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'Expire') return;
      enqueue.assign({ outbox: context.outbox.filter((id) => id !== event.id) });
      enqueue(io('expireSend', { id: event.id }));
    }),
    refuseSend: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'Send') return;
      enqueue(
        io('failSend', { id: event.id, code: 'logged_out', message: 'the account is logged out; pair it again' }),
      );
    }),
    /** Logged out: nothing held can ever go out under these credentials. Fail, never drop. */
    failAllSends: enqueueActions(({ context, enqueue }) => {
      for (const id of [...context.inFlight, ...context.outbox]) {
        enqueue(
          io('failSend', {
            id,
            code: 'logged_out',
            message: 'the account was logged out before this send was acknowledged',
          }),
        );
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
      // The oldest in flight first: the usual case, found without a scan.
      (context.inFlight[0] === event.id || context.inFlight.includes(event.id) || context.outbox.includes(event.id)),
    ackDeadlineArmed: ({ context, event }) =>
      event.type === 'AckTimedOut' && event.token === context.ackToken && context.ackFor !== null,
    /** Unbounded, unlike the probe's: a loop that keeps stalling is caught by the keepalive. */
    ackStallEarnsRetry: ({ context, event }) =>
      event.type === 'AckTimedOut' && event.stalledMs >= context.timings.stallThresholdMs,
    stallEarnsRetry: ({ context, event }) =>
      event.type === 'ProbeTimedOut' &&
      event.stalledMs >= context.timings.stallThresholdMs &&
      context.stallRetries < context.timings.maxStallRetries,
    inboundResetsIdle: ({ context }) => context.inboundResetsIdle,
  },
});

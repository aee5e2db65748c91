import {
  BAN_WITHOUT_EXPIRY_MS,
  backoffCeiling,
  isOnline,
  ONLINE_STATES,
  stateName,
  type AccountStateName,
} from '../../machines/index.js';
import { STATE_TIMER } from '../support/event-catalog.js';
import type { AccountRun, Step } from './harness.js';

const SOCKET_STATES: readonly AccountStateName[] = ['connecting', 'pairing', ...ONLINE_STATES, 'draining'];

class InvariantBroken extends Error {
  constructor(rule: string, step: Step, index: number, detail = '') {
    super(
      `${rule} — at step ${index} (${JSON.stringify(step.event)}), ${stateName(step.before)} → ${stateName(step.after)}${detail ? `: ${detail}` : ''}`,
    );
  }
}

/**
 * The promises the account machine makes, checked over every step of a run. Throws on
 * the first broken one with the step that broke it.
 */
export function checkInvariants(run: AccountRun): void {
  const arrival = new Map<string, number>(); // send id → arrival index
  const settled = new Set<string>(); // acked, rejected, expired or failed
  const dispatchedOn = new Set<string>(); // `${connectionId}:${id}`
  const lastDispatchArrival = new Map<number, number>(); // connectionId → arrival index of last dispatch
  let mustNotReconnect: string | null = null;

  run.steps.forEach((step, i) => {
    const from = stateName(step.before);
    const to = stateName(step.after);
    const ev = step.event;
    const ctxBefore = step.before.context;
    const ctx = step.after.context;

    if (ev.type === 'Send' && !arrival.has(ev.id)) arrival.set(ev.id, arrival.size);
    if (ev.type === 'Connect' || ev.type === 'Pair') mustNotReconnect = null;

    // Transition records: one per state entered, from and to as observed.
    const changed =
      from !== to ||
      ctx.connectionId !== ctxBefore.connectionId ||
      (to === 'pinging' && ctx.probeId !== ctxBefore.probeId && from === 'pinging');
    if (changed && step.records.length === 0) throw new InvariantBroken('a transition produced no record', step, i);
    if (!changed && step.records.length > 0)
      throw new InvariantBroken('a record without a transition', step, i, JSON.stringify(step.records));
    const first = step.records[0];
    const last = step.records.at(-1);
    if (first && first.from !== from)
      throw new InvariantBroken('record.from is not the previous state', step, i, JSON.stringify(first));
    if (last && last.to !== to)
      throw new InvariantBroken('record.to is not the new state', step, i, JSON.stringify(last));
    for (const r of step.records)
      if (r.event !== ev.type) throw new InvariantBroken('record.event is not the event', step, i);

    for (const call of step.calls) {
      if (call.type === 'dispatchSend') {
        const { id, connectionId } = call.params;
        if (!isOnline(to)) throw new InvariantBroken('send dispatched outside open/idle/pinging', step, i, id);
        if (connectionId !== ctx.connectionId)
          throw new InvariantBroken('send dispatched on an old connection', step, i, id);
        const key = `${connectionId}:${id}`;
        if (dispatchedOn.has(key)) throw new InvariantBroken('send dispatched twice on one connection', step, i, id);
        if (settled.has(id)) throw new InvariantBroken('settled send dispatched again', step, i, id);
        dispatchedOn.add(key);
        const a = arrival.get(id);
        if (a === undefined) throw new InvariantBroken('dispatched a send that never arrived', step, i, id);
        const prev = lastDispatchArrival.get(connectionId) ?? -1;
        if (a < prev) throw new InvariantBroken('sends dispatched out of arrival order', step, i, id);
        lastDispatchArrival.set(connectionId, a);
      }
      if (call.type === 'failSend' || call.type === 'expireSend') settled.add(call.params.id);
      if (call.type === 'openSocket' && mustNotReconnect)
        throw new InvariantBroken(`reconnected after ${mustNotReconnect}`, step, i);
    }
    if (ev.type === 'SendAcked' && [...ctxBefore.inFlight, ...ctxBefore.outbox].includes(ev.id)) settled.add(ev.id);

    // Never dropped: every send that arrived is held, in flight or settled — exactly one.
    for (const id of arrival.keys()) {
      const places = [ctx.outbox.includes(id), ctx.inFlight.includes(id), settled.has(id)].filter(Boolean).length;
      if (places !== 1)
        throw new InvariantBroken(`send ${id} is in ${places} places (held/in flight/settled)`, step, i);
    }
    if (new Set(ctx.outbox).size !== ctx.outbox.length || new Set(ctx.inFlight).size !== ctx.inFlight.length) {
      throw new InvariantBroken('duplicate id in outbox or in flight', step, i);
    }
    // Held sends stay in arrival order.
    const order = ctx.outbox.map((id) => arrival.get(id) ?? -1);
    if (order.some((a, k) => k > 0 && a < order[k - 1]!))
      throw new InvariantBroken('outbox out of arrival order', step, i);
    if (isOnline(to) && ctx.outbox.length > 0) throw new InvariantBroken('held sends left behind while open', step, i);
    if (
      from === 'loggedOut' &&
      ev.type === 'Send' &&
      !step.calls.some((c) => c.type === 'failSend' && c.params.id === ev.id && c.params.code === 'logged_out')
    ) {
      throw new InvariantBroken('send after loggedOut not refused with logged_out', step, i);
    }

    // Disconnect policy.
    const currentClose =
      ev.type === 'SocketClosed' && ev.connectionId === ctxBefore.connectionId && SOCKET_STATES.includes(from);
    if (currentClose && ev.statusCode === 401 && to !== 'loggedOut')
      throw new InvariantBroken('401 did not end in loggedOut', step, i);
    if (currentClose && ev.statusCode === 440) {
      if (to !== 'stopped') throw new InvariantBroken('440 did not stop', step, i);
      mustNotReconnect = '440';
    }
    if (currentClose && (ev.statusCode === 411 || ev.statusCode === 403 || ev.statusCode === 405) && to !== 'stopped')
      throw new InvariantBroken(`${ev.statusCode} did not stop`, step, i);

    // Timers: exactly the timed states hold one, their own, and the backoff stays within its ceiling.
    if (step.armed?.name !== STATE_TIMER[to] || (step.armed && step.armed.token !== ctx.timerToken)) {
      throw new InvariantBroken('timer armed wrong', step, i, JSON.stringify(step.armed));
    }
    // The ack deadline waits for the oldest send in flight while online, and only then.
    const ackFor = isOnline(to) ? (ctx.inFlight[0] ?? null) : null;
    if (ctx.ackFor !== ackFor)
      throw new InvariantBroken('ack deadline not on the oldest send in flight', step, i, `${ctx.ackFor} vs ${ackFor}`);
    if ((step.armedAck !== null) !== (ackFor !== null) || (step.armedAck && step.armedAck.token !== ctx.ackToken)) {
      throw new InvariantBroken('ack timer armed wrong', step, i, JSON.stringify(step.armedAck));
    }
    // A 402 ban: no attempt before it ends — the wait is the ban's, then a fresh ladder.
    const banned = currentClose && ev.statusCode === 402 && to === 'reconnecting';
    if (banned) {
      const wait = Math.max(0, ev.retryAfterMs ?? BAN_WITHOUT_EXPIRY_MS);
      if (ctx.backoffMs !== wait || ctx.attempt !== 0)
        throw new InvariantBroken('402 did not wait out the ban', step, i, `${ctx.backoffMs} vs ${wait}`);
    }
    if (to === 'reconnecting' && from !== 'reconnecting' && !banned) {
      const ceiling = backoffCeiling(ctx.attempt, ctx.timings);
      if (ctx.backoffMs < 0 || ctx.backoffMs >= Math.max(1, ceiling) || ceiling > ctx.timings.backoffCapMs) {
        throw new InvariantBroken('backoff out of bounds', step, i, `${ctx.backoffMs} vs ceiling ${ceiling}`);
      }
    }
  });
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isOnline, ONLINE_STATES, type AccountEvent, type AccountSnapshot } from '../../machines/index.js';
import { eventsFor } from '../support/event-catalog.js';
import { runAccount, type AccountRun } from './harness.js';
import { checkInvariants } from './invariants.js';

/**
 * Random event sequences against the same invariants as the model-based paths. Each
 * step picks one of the events that mean something now, or a stale one (an old socket,
 * an old timer) that must change nothing.
 */
const stepArb = fc.record({ pick: fc.nat(), stale: fc.integer({ min: 0, max: 99 }).map((n) => n < 15) });

function play(run: AccountRun, steps: { pick: number; stale: boolean }[]) {
  for (const { pick, stale } of steps) {
    const options = eventsFor(run.snapshot());
    const event = options[pick % options.length]!;
    run.send(stale ? makeStale(event) : event);
  }
}

function makeStale(event: AccountEvent): AccountEvent {
  if ('connectionId' in event) return { ...event, connectionId: event.connectionId - 1 };
  if ('token' in event) return { ...event, token: event.token - 1 };
  return event;
}

/** Drive the account back to open, acknowledging everything: the recovery a runtime performs. */
function recover(run: AccountRun) {
  for (let guard = 0; guard < 20 && !isOnline(run.state()); guard++) {
    const s = run.state();
    if (s === 'loggedOut') run.send({ type: 'Pair' });
    else if (s === 'stopped' || s === 'reconnecting') run.send({ type: 'Connect' });
    else if (s === 'draining') run.fire();
    else if (s === 'pairing')
      run.send({ type: 'SocketClosed', connectionId: run.snapshot().context.connectionId, statusCode: 515, at: 0 }); // the phone linked us
    else if (s === 'connecting')
      run.send({ type: 'SocketOpened', connectionId: run.snapshot().context.connectionId, at: 0 });
  }
  for (const id of [...run.snapshot().context.inFlight]) run.send({ type: 'SendAcked', id });
}

describe('random event sequences', () => {
  it('never break an invariant', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 60 }), fc.integer(), (steps, seed) => {
        const run = runAccount({ seed });
        play(run, steps);
        checkInvariants(run);
      }),
      { numRuns: 400 },
    );
  });

  it('deliver every accepted send exactly once once the link is back, in arrival order', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 60 }), fc.integer(), (steps, seed) => {
        const run = runAccount({ seed });
        play(run, steps);
        recover(run);
        checkInvariants(run);
        expect(ONLINE_STATES).toContain(run.state());

        const tracked = (s: AccountSnapshot) => [...s.context.inFlight, ...s.context.outbox];
        // Accepted: held or dispatched by this very step.
        const accepted = new Set(
          run.steps.flatMap((s) =>
            s.event.type === 'Send' && !tracked(s.before).includes(s.event.id) && tracked(s.after).includes(s.event.id)
              ? [s.event.id]
              : [],
          ),
        );
        const failed = new Set(
          run.calls.flatMap((c) => (c.type === 'failSend' || c.type === 'expireSend' ? [c.params.id] : [])),
        );
        const acked = new Set(
          run.steps.flatMap((s) =>
            s.event.type === 'SendAcked' &&
            [...s.before.context.inFlight, ...s.before.context.outbox].includes(s.event.id)
              ? [s.event.id]
              : [],
          ),
        );
        for (const id of accepted) {
          // Each accepted send ends exactly one way: acknowledged, or failed/expired with a reason.
          expect(Number(acked.has(id)) + Number(failed.has(id)), id).toBe(1);
        }
        expect(run.snapshot().context.outbox).toEqual([]);
        expect(run.snapshot().context.inFlight).toEqual([]);
      }),
      // Logout, a send (refused), Pair, a send: the catalog once gave the second send the
      // refused one's id, and a send seemed to be settled and held at once.
      {
        numRuns: 400,
        examples: [[[1182556410, 290581769, 437031490, 1788562342].map((pick) => ({ pick, stale: true })), 0]],
      },
    );
  });

  it('never reconnect after a 440 until an operator asks', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), (steps) => {
        const run = runAccount();
        run.send({ type: 'Connect' });
        run.send({ type: 'SocketOpened', connectionId: 1, at: 0 });
        run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 440, at: 0 });
        expect(run.state()).toBe('stopped');
        const before = run.calls.length;
        // Everything but an operator's Connect/Pair: timers, stale sockets, sends.
        for (const { pick } of steps) {
          const options = eventsFor(run.snapshot()).filter((e) => e.type !== 'Connect' && e.type !== 'Pair');
          run.send(options[pick % options.length]!);
        }
        expect(run.calls.slice(before).filter((c) => c.type === 'openSocket')).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

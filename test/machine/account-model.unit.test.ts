import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import { createTestModel, joinPaths, type StatePath } from 'xstate/graph';
import {
  ACCOUNT_EVENT_TYPES,
  accountMachine,
  stateName,
  type AccountEvent,
  type AccountInput,
  type AccountSnapshot,
} from '../../machines/index.js';
import { CoverageReport } from '../support/machine-coverage.js';
import { bindTo, eventsFor, fromCatalog } from '../support/event-catalog.js';
import { runAccount } from './harness.js';
import { checkInvariants } from './invariants.js';

/**
 * Model-based tests: paths generated from the account machine by xstate/graph's
 * createTestModel (the XState v5 successor of @xstate/test, see docs/testing.md) reach
 * every state, then every event that state accepts, and each path is replayed against a
 * live actor with recording IO while the invariants are checked step by step.
 */

// The context holds counters (socket, timer, probe ids) that grow forever; the model
// abstracts them away and keeps what changes behaviour.
function abstractState(s: AccountSnapshot): string {
  const c = s.context;
  const name = stateName(s);
  const drain = name === 'draining' && c.drain ? `${c.drain.next}${c.drain.closeRequested ? '+closing' : ''}` : '-';
  return `${name}|held:${c.outbox.length}|inflight:${c.inFlight.length}|drain:${drain}|stall:${c.stallRetries}|phone:${c.pairPhone ? 1 : 0}`;
}

// Both keepalive modes (inbound traffic postpones the probe, or not) are models of their own.
const MODES = [
  { name: 'fixed keepalive cadence', input: { account: 'acc', seed: 42, inboundResetsIdle: false } },
  { name: 'keepalive on inbound silence', input: { account: 'acc', seed: 42, inboundResetsIdle: true } },
] as const;

const coverage = new CoverageReport();

function modelFor(input: AccountInput) {
  return createTestModel(accountMachine, {
    input,
    events: (s: AccountSnapshot) => eventsFor(s),
    // Traversal also offers a bare `{ type }` for every accepted type; those are not events
    // any runtime would produce (a close without a socket id), so only the catalog's count.
    filterEvents: (_: AccountSnapshot, e: AccountEvent) => fromCatalog(e),
    serializeState: (s: AccountSnapshot) => abstractState(s),
  });
}

async function replay(
  model: ReturnType<typeof modelFor>,
  input: AccountInput,
  path: StatePath<AccountSnapshot, AccountEvent>,
) {
  const run = runAccount(input);
  const eventHandlers = Object.fromEntries(
    ACCOUNT_EVENT_TYPES.map((type) => [
      type,
      ({ event }: { event: AccountEvent }) => void run.send(bindTo(event, run.snapshot())),
    ]),
  );
  await model.testPath(path, {
    events: eventHandlers,
    states: {
      // The live actor must be where the model says, holding as many sends.
      '*': (modelState: AccountSnapshot) => {
        expect(abstractState(run.snapshot())).toBe(abstractState(modelState));
      },
    },
  });
  // Every step of the path was an event the handlers map knows: none silently skipped.
  expect(run.steps.map((s) => s.event.type)).toEqual(path.steps.slice(1).map((s) => s.event.type));
  checkInvariants(run);
  coverage.add(
    run.taken,
    run.steps.map((s) => stateName(s.after)),
  );
}

describe('the account machine, walked by generated paths', () => {
  for (const mode of MODES) {
    describe(mode.name, () => {
      const model = modelFor(mode.input);
      // allowDuplicatePaths keeps the paths that are prefixes of longer ones: without it,
      // states on the way to others (connecting, say) get no path of their own.
      const shortest = model.getShortestPaths({ allowDuplicatePaths: true });

      it('generates every event type the machine defines', () => {
        const produced = new Set(shortest.flatMap((p) => eventsFor(p.state).map((e) => e.type)));
        expect([...produced].sort()).toEqual([...ACCOUNT_EVENT_TYPES].sort());
      });

      describe('reaching every state', () => {
        for (const path of shortest) {
          it(path.description, async () => replay(model, mode.input, path));
        }
      });

      describe('taking every event in every state', () => {
        for (const head of shortest) {
          const events = eventsFor(head.state);
          it(`from ${abstractState(head.state)}: ${events.length} events`, async () => {
            for (const event of events) {
              const [next] = transition(accountMachine, head.state, event);
              // A path's first step is where it starts; joinPaths drops it from the tail.
              const tail = {
                state: next,
                steps: [
                  { state: head.state, event: head.steps[0]!.event },
                  { state: next, event },
                ],
                weight: 1,
              };
              await replay(model, mode.input, joinPaths(head, tail));
            }
          });
        }
      });
    });
  }

  afterAll(() => {
    const summary = coverage.summary();
    mkdirSync('coverage', { recursive: true });
    writeFileSync('coverage/machine-coverage.json', `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(
      `machine coverage: states ${summary.states.reached}/${summary.states.total}, transitions ${summary.transitions.reached}/${summary.transitions.total}\n`,
    );
  });

  it('covers 100% of states and transitions (checked after all paths ran)', () => {
    // vitest runs tests in order within a file; this one is last.
    const summary = coverage.summary();
    expect(summary.states.missing).toEqual([]);
    expect(summary.transitions.missing).toEqual([]);
  });
});

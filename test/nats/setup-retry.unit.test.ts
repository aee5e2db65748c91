import { describe, expect, it } from 'vitest';
import { isTransientSetupError, retrySetup, SETUP_DEADLINE_MS } from '../../src/nats/setup-retry.js';
import { ManualClock } from '../support/manual-clock.js';

function named(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(Object.defineProperty(new Error(name), 'name', { value: name }), extra);
}

/** Lets pending promise callbacks run, so the retry loop reaches its next timer. */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('JetStream setup retries', () => {
  it('tells a transient failure (timeout, no meta leader yet, a racing create) from a real one', () => {
    expect(isTransientSetupError(named('TimeoutError'))).toBe(true);
    expect(isTransientSetupError(named('NoRespondersError'))).toBe(true);
    expect(isTransientSetupError(new Error('request failed', { cause: named('TimeoutError') }))).toBe(true);
    expect(isTransientSetupError(named('JetStreamApiError', { code: 10008 }))).toBe(true);
    expect(isTransientSetupError(named('JetStreamApiError', { code: 10058 }))).toBe(true);
    expect(isTransientSetupError(named('JetStreamApiError', { code: 10052 }))).toBe(false);
    expect(isTransientSetupError(new Error('subjects overlap'))).toBe(false);
  });

  it('takes "JetStream not enabled" for a missing stream leader only where the stream is known to exist', async () => {
    const clock = new ManualClock();
    const noLeader = () => Promise.reject(named('JetStreamNotEnabled'));
    await expect(retrySetup('JetStream', noLeader, undefined, { clock })).rejects.toThrow('JetStreamNotEnabled');
    let calls = 0;
    const done = retrySetup('WA_OWNERS process key', () => (++calls < 2 ? noLeader() : Promise.resolve(7)), undefined, {
      clock,
      streamExists: true,
    });
    await settle();
    clock.advance(1_000);
    await expect(done).resolves.toBe(7);
  });

  it('tries again after a timeout and returns what the step finally gives', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const done = retrySetup(
      'WA_EVENTS',
      () => (++calls < 3 ? Promise.reject(named('TimeoutError')) : Promise.resolve('created')),
      undefined,
      { clock },
    );
    for (let i = 0; i < 5 && calls < 3; i++) {
      await settle();
      clock.advance(1_000);
    }
    await expect(done).resolves.toBe('created');
    expect(calls).toBe(3);
  });

  it('gives up at the deadline, and at once on an error that is not transient', async () => {
    const clock = new ManualClock();
    const hopeless = retrySetup('WA_EVENTS', () => Promise.reject(named('TimeoutError')), undefined, { clock });
    const caught = hopeless.catch((err: unknown) => err);
    for (let waited = 0; waited <= SETUP_DEADLINE_MS; waited += 1_000) {
      await settle();
      clock.advance(1_000);
    }
    expect(((await caught) as Error).name).toBe('TimeoutError');
    await expect(
      retrySetup('x', () => Promise.reject(new Error('subjects overlap')), undefined, { clock }),
    ).rejects.toThrow('subjects overlap');
  });
});

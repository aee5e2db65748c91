// The Stately inspector hook: inspection events reach the inspector, and a failing
// inspector (stately.ai is out of reach here, or the library throws) is contained:
// logged once, switched off, the account machine unaffected.
import { createActor, createMachine, type InspectionEvent } from 'xstate';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { statelyInspector, type SkyFactory } from '../../src/inspect/stately.js';

function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: pino({ level: 'trace' }, { write: (l: string) => void lines.push(JSON.parse(l)) }) };
}

const toggle = createMachine({
  id: 'toggle',
  initial: 'off',
  context: { pairPhone: '15551234567' },
  states: { off: { on: { Pair: 'on' } }, on: { on: { Pair: 'off' } } },
});

describe('the Stately inspector hook', () => {
  it('passes inspection events on, with phone numbers sanitised', async () => {
    const seen: InspectionEvent[] = [];
    let options: Parameters<SkyFactory>[0] | undefined;
    const { logger } = recordingLogger();
    const { hook, stop } = await statelyInspector(logger, (o) => {
      options = o;
      return { inspect: { next: (e) => void seen.push(e) }, stop: () => undefined };
    });
    const actor = createActor(toggle, { inspect: (e) => hook('acct', e) });
    actor.start();
    actor.send({ type: 'Pair', phone: '15551234567' } as never);
    expect(seen.some((e) => e.type === '@xstate.snapshot')).toBe(true);
    expect(options!.sanitizeContext({ pairPhone: '15551234567', attempt: 1 })).toEqual({
      pairPhone: '[redacted]',
      attempt: 1,
    });
    expect(options!.sanitizeEvent({ type: 'Pair', phone: '15551234567' })).toEqual({
      type: 'Pair',
      phone: '[redacted]',
    });
    stop();
  });

  it('switches itself off when the inspector throws, and the actor keeps running', async () => {
    const { lines, logger } = recordingLogger();
    let calls = 0;
    const { hook } = await statelyInspector(logger, () => ({
      inspect: {
        next: () => {
          calls += 1;
          throw new Error('socket gone');
        },
      },
      stop: () => undefined,
    }));
    const actor = createActor(toggle, { inspect: (e) => hook('acct', e) });
    actor.start();
    actor.send({ type: 'Pair' });
    actor.send({ type: 'Pair' });
    expect(actor.getSnapshot().value).toBe('off');
    expect(calls).toBe(1);
    expect(lines.filter((l) => String(l.msg).includes('switched off'))).toHaveLength(1);
  });

  it('is a no-op when the inspector cannot even start', async () => {
    const { lines, logger } = recordingLogger();
    const { hook } = await statelyInspector(logger, () => {
      throw new Error('no network');
    });
    expect(() => hook('acct', { type: '@xstate.event' } as InspectionEvent)).not.toThrow();
    expect(lines.some((l) => l.where === 'start')).toBe(true);
  });

  it('loads the real @statelyai/inspect in Node ESM and stops cleanly offline', async () => {
    const { logger } = recordingLogger();
    const { hook, stop } = await statelyInspector(logger);
    const actor = createActor(toggle, { inspect: (e) => hook('acct', e) });
    actor.start();
    actor.send({ type: 'Pair' });
    stop();
    actor.stop();
  });
});

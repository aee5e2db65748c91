/**
 * The `send` decision, given what the gateway knows / when a command comes / then the
 * event to record, the repeat's answer, or the error (by code).
 */
import { describe, expect, it } from 'vitest';
import { requestFingerprint, type SendContent, WaError, type WaErrorCode } from '../../src/contract/index.js';
import type { QueuedSend, SendRecord } from '../../src/nats/projection.js';
import {
  decideRecovery,
  decideSend,
  type IdentifiedSend,
  type SendDecision,
  type SendState,
} from '../../src/nats/send-decision.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const TO = '4915100000001@s.whatsapp.net';
const cmd: IdentifiedSend = { verb: 'send', account: 'a', id: 's1', to: TO, content: { kind: 'text', text: 'hi' } };
const openAccount: SendState = { account: { state: 'open', paired: true }, message: () => undefined, now: NOW };
const text = (t: string): { content: SendContent } => ({ content: { kind: 'text', text: t } });

function given(state: Partial<SendState>) {
  const s: SendState = { ...openAccount, ...state };
  return {
    when: (command: Partial<IdentifiedSend>) => {
      const decision = decideSend({ ...cmd, ...command }, s);
      return {
        then: (expected: SendDecision) => expect(decision).toEqual(expected),
        thenError: (code: WaErrorCode, message?: RegExp) => {
          expect(decision).toBeInstanceOf(WaError);
          expect((decision as WaError).code).toBe(code);
          if (message) expect((decision as WaError).message).toMatch(message);
        },
      };
    },
  };
}

const recorded = (status: SendRecord['status'], text = 'hi'): SendRecord => ({
  seq: 7,
  status,
  request: requestFingerprint(TO, text),
  to: TO,
  kind: 'text',
});

describe('a new send', () => {
  it('is recorded as send.queued, with its deadline', () => {
    const deadline = new Date(NOW + 60_000).toISOString();
    given({})
      .when({ deadline })
      .then({
        kind: 'record',
        send: {
          account: 'a',
          id: 's1',
          to: TO,
          content: { kind: 'text', text: 'hi' },
          fingerprint: requestFingerprint(TO, 'hi'),
          deadline,
        },
      });
  });

  it('is recorded while the account is away: held, not refused', () => {
    for (const state of ['stopped', 'connecting', 'reconnecting', 'draining'] as const) {
      given({ account: { state, paired: true } })
        .when({})
        .then({
          kind: 'record',
          send: {
            account: 'a',
            id: 's1',
            to: TO,
            content: { kind: 'text', text: 'hi' },
            fingerprint: requestFingerprint(TO, 'hi'),
          },
        });
    }
  });

  it('is refused with logged_out when the account is logged out', () => {
    given({ account: { state: 'loggedOut', paired: true } })
      .when({})
      .thenError('logged_out', /pair it again/);
  });

  it('is refused with not_paired when the account was never paired', () => {
    given({ account: { state: 'stopped', paired: false } })
      .when({})
      .thenError('not_paired', /wa\.cmd\.a\.pair/);
  });

  it('is refused with bad_request when its deadline has passed, saying the gateway time', () => {
    given({})
      .when({ deadline: new Date(NOW).toISOString() })
      .thenError('bad_request', /2026-01-01T12:00:00\.000Z/);
  });
});

describe('the same id again', () => {
  it('answers from the record, however far the send got, even after a logout', () => {
    for (const status of ['queued', 'sent', 'acked', 'failed', 'expired'] as const) {
      given({ recorded: recorded(status), account: { state: 'loggedOut', paired: false } })
        .when({})
        .then({ kind: 'repeat', record: recorded(status) });
    }
  });

  it('with a different text or recipient is a conflict that does not echo the text', () => {
    given({ recorded: recorded('acked') })
      .when(text('secret'))
      .thenError('conflict');
    given({ recorded: recorded('acked') })
      .when({ to: '4915100000002@s.whatsapp.net' })
      .thenError('conflict');
    const d = decideSend({ ...cmd, ...text('secret') }, { ...openAccount, recorded: recorded('acked') });
    expect((d as WaError).message).not.toContain('secret');
  });

  it('while the first is still being recorded joins it, or conflicts with a different request', () => {
    given({ unsettled: requestFingerprint(TO, 'hi') })
      .when({})
      .then({ kind: 'join' });
    given({ unsettled: requestFingerprint(TO, 'other') })
      .when({})
      .thenError('conflict');
  });

  it('with only a deadline added is the same request', () => {
    given({ recorded: recorded('queued') })
      .when({ deadline: new Date(NOW + 1).toISOString() })
      .then({ kind: 'repeat', record: recorded('queued') });
  });
});

describe('a queued send at takeover', () => {
  const q = (deadline?: number, waMessageId?: string): QueuedSend => ({
    id: 's1',
    seq: 3,
    to: TO,
    content: { kind: 'text', text: 'hi' },
    ...(deadline !== undefined ? { deadline: new Date(deadline).toISOString() } : {}),
    ...(waMessageId ? { waMessageId } : {}),
  });

  it('expires when its deadline passed while no gateway ran and it never went to WhatsApp', () => {
    expect(decideRecovery(q(NOW - 1), NOW)).toBe('expire');
    expect(decideRecovery(q(NOW), NOW)).toBe('expire');
  });

  it('goes to the runtime again otherwise: no deadline, a later one, or already sent (not recalled)', () => {
    expect(decideRecovery(q(), NOW)).toBe('resubmit');
    expect(decideRecovery(q(NOW + 1), NOW)).toBe('resubmit');
    expect(decideRecovery(q(NOW - 1, '3EB0ABC'), NOW)).toBe('resubmit');
  });
});

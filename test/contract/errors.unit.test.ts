import { describe, expect, it } from 'vitest';
import { hasErrorCode, isWaErrorCode, toReply, toWaError, WaError } from '../../src/contract/index.js';

describe('when an error becomes a reply', () => {
  it('keeps the code and message of a WaError', () => {
    expect(toReply(new WaError('timeout', 'no ack in 5s'))).toEqual({
      ok: false,
      error: { code: 'timeout', message: 'no ack in 5s' },
    });
  });

  it('hides the message of anything else behind internal, keeping it as cause', () => {
    const boom = new Error('/var/lib/wa/creds.json: EACCES');
    const wrapped = toWaError(boom);
    expect(wrapped.code).toBe('internal');
    expect(wrapped.cause).toBe(boom);
    expect(JSON.stringify(toReply(boom))).not.toContain('creds');
  });

  it('is checked by code', () => {
    const e = new WaError('logged_out', 'x');
    expect(hasErrorCode(e, 'logged_out')).toBe(true);
    expect(hasErrorCode(e, 'timeout')).toBe(false);
    expect(hasErrorCode(new Error('x'), 'internal')).toBe(false);
    expect(isWaErrorCode('not_paired')).toBe(true);
    expect(isWaErrorCode('forbidden')).toBe(false);
  });
});

// A socket that never reached the server (DNS, refused, TLS, proxy) is its own reason:
// backed off like a transient drop, recorded as `unreachable` with the network error
// code as `cause`, and without the 408 Baileys reports for it.
import { describe, expect, it } from 'vitest';
import { runAccount } from './harness.js';

describe('when WhatsApp cannot be reached', () => {
  it('backs off and records reason unreachable with the cause, no status code', () => {
    const run = runAccount();
    run.send({ type: 'Connect' });
    const step = run.send({ type: 'SocketClosed', connectionId: 1, statusCode: 408, unreachable: 'ENOTFOUND', at: 0 });
    expect(run.state()).toBe('reconnecting');
    expect(step.records).toEqual([
      {
        type: 'transition',
        from: 'connecting',
        to: 'reconnecting',
        event: 'SocketClosed',
        reason: 'unreachable',
        cause: 'ENOTFOUND',
      },
    ]);
    run.fire();
    expect(run.state()).toBe('connecting');
  });
});

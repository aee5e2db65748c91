// The "cannot reach WhatsApp" line: once per cause, not per retry; again when the cause
// changes or after a connection worked; a hint that fits the error code.
import { describe, expect, it } from 'vitest';
import { printReachability, unreachableHint } from '../../src/gateway/notices.js';
import type { RunningGateway } from '../../src/gateway/start.js';
import type { Fact } from '../../src/runtime/port.js';

function fakeGateway(url?: string) {
  const listeners = new Set<(f: Fact) => void>();
  const gateway = {
    config: { whatsapp: url ? { url } : {} },
    onFact: (l: (f: Fact) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  } as unknown as RunningGateway;
  const emit = (f: Partial<Fact> & { to: string }) => {
    for (const l of listeners)
      l({ account: 'a', type: 'transition', from: 'connecting', event: 'SocketClosed', ...f } as Fact);
  };
  return { gateway, emit };
}

describe('printReachability', () => {
  it('prints once per cause, again on a new cause or after an open', () => {
    const out: string[] = [];
    const { gateway, emit } = fakeGateway();
    printReachability(gateway, { write: (s: string) => out.push(s) } as never);
    const fail = (cause: string) => emit({ to: 'reconnecting', reason: 'unreachable', cause });
    fail('ENOTFOUND');
    fail('ENOTFOUND');
    fail('ENOTFOUND');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(
      /^wa-connd cannot reach WhatsApp at wss:\/\/web\.whatsapp\.com\/ws\/chat: ENOTFOUND \(the host name does not resolve/,
    );
    fail('ECONNREFUSED');
    expect(out).toHaveLength(2);
    emit({ to: 'reconnecting', reason: 'connectionLost', statusCode: 408 });
    fail('ECONNREFUSED');
    expect(out).toHaveLength(2);
    emit({ from: 'connecting', to: 'open', event: 'SocketOpened', reason: 'loggedIn' });
    fail('ECONNREFUSED');
    expect(out).toHaveLength(3);
  });

  it('names the configured URL', () => {
    const out: string[] = [];
    const { gateway, emit } = fakeGateway('ws://127.0.0.1:9/ws/chat');
    printReachability(gateway, { write: (s: string) => out.push(s) } as never);
    emit({ to: 'reconnecting', reason: 'unreachable', cause: 'ECONNREFUSED' });
    expect(out[0]).toContain('at ws://127.0.0.1:9/ws/chat: ECONNREFUSED');
  });
});

describe('unreachableHint', () => {
  it('fits the error code', () => {
    expect(unreachableHint('EAI_AGAIN')).toMatch(/does not resolve/);
    expect(unreachableHint('ECONNREFUSED')).toMatch(/refused/);
    expect(unreachableHint('EHOSTUNREACH')).toMatch(/no route/);
    expect(unreachableHint('ECONNRESET')).toMatch(/proxy or firewall/);
    expect(unreachableHint('CERT_HAS_EXPIRED')).toMatch(/TLS/);
    expect(unreachableHint('EPROTO')).toMatch(/TLS/);
    expect(unreachableHint('DEPTH_ZERO_SELF_SIGNED_CERT')).toMatch(/TLS/);
    expect(unreachableHint('ERR_TLS_CERT_ALTNAME_INVALID')).toMatch(/TLS/);
    expect(unreachableHint('Opening handshake has timed out')).toMatch(/network connection and proxy/);
  });
});

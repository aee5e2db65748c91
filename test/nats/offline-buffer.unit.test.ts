/** The buffer's policy without NATS: order, eviction of observability facts, the reserve for records. */
import { describe, expect, it } from 'vitest';
import type { EventType } from '../../src/contract/index.js';
import { type Buffered, OfflineBuffer } from '../../src/nats/offline-buffer.js';

type E = Buffered & { n: number };
let n = 0;
const fact = (type: EventType, account = 'a'): E => ({ account, type, attempted: false, gone: false, n: ++n });

function drain(b: OfflineBuffer<E>, account = 'a'): string[] {
  const out: string[] = [];
  for (let e = b.head(account); e; e = b.head(account)) {
    out.push(`${e.type}#${e.n}`);
    b.remove(e);
  }
  return out;
}

describe('the offline buffer', () => {
  it('hands facts out per account in arrival order', () => {
    const b = new OfflineBuffer<E>(10, 0);
    n = 0;
    b.offer(fact('transition', 'a'));
    b.offer(fact('transition', 'b'));
    b.offer(fact('message.in', 'a'));
    expect(drain(b, 'a')).toEqual(['transition#1', 'message.in#3']);
    expect(drain(b, 'b')).toEqual(['transition#2']);
    expect(b.size).toBe(0);
  });

  it('at the bound evicts the oldest observability fact, whatever arrives', () => {
    const b = new OfflineBuffer<E>(3, 0);
    n = 0;
    b.offer(fact('keepalive'));
    b.offer(fact('message.in'));
    b.offer(fact('transition'));
    const r = b.offer(fact('keepalive'));
    expect(r).toMatchObject({ accepted: true, evicted: { n: 1 } });
    expect(drain(b)).toEqual(['message.in#2', 'transition#3', 'keepalive#4']);
  });

  it('never evicts a fact already handed to NATS', () => {
    const b = new OfflineBuffer<E>(2, 0);
    n = 0;
    b.offer(fact('keepalive'));
    b.offer(fact('keepalive'));
    b.head('a')!.attempted = true;
    expect(b.offer(fact('keepalive'))).toMatchObject({ accepted: true, evicted: { n: 2 } });
    expect(drain(b)).toEqual(['keepalive#1', 'keepalive#3']);
  });

  it('with only records left: refuses observability facts and new sends, admits other records into the reserve', () => {
    const b = new OfflineBuffer<E>(2, 1);
    n = 0;
    b.offer(fact('message.in'));
    b.offer(fact('send.sent'));
    expect(b.offer(fact('keepalive')).accepted).toBe(false);
    expect(b.offer(fact('send.queued')).accepted).toBe(false);
    expect(b.offer(fact('send.acked')).accepted).toBe(true);
    expect(b.offer(fact('message.in')).accepted).toBe(false);
    expect(b.size).toBe(3);
  });

  it('takes every fact of a fenced account at once', () => {
    const b = new OfflineBuffer<E>(10, 0);
    n = 0;
    b.offer(fact('keepalive', 'a'));
    b.offer(fact('keepalive', 'b'));
    b.offer(fact('message.in', 'a'));
    expect(b.take('a').map((e) => e.n)).toEqual([1, 3]);
    expect(b.size).toBe(1);
    expect(b.head('a')).toBeUndefined();
  });
});

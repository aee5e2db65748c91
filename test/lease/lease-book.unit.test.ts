/**
 * The lease core with an injected clock (src/lease/lease-book.ts): expiry is judged on
 * the observer's clock from the last revision change it saw, never from the owner's
 * timestamp; the balancing rule holds up to min(cap, fair share) and releases one above it.
 */
import { describe, expect, it } from 'vitest';
import { LeaseBook, ownerDeadline, rank } from '../../src/lease/lease-book.js';
import type { Lease, ProcessRecord } from '../../src/lease/lease-record.js';

const TTL = 9_000;
const ACCOUNTS = Array.from({ length: 30 }, (_, i) => `a${i}`);

const lease = (writer: string, state: Lease['state'] = 'held', at = '2020-01-01T00:00:00.000Z'): Lease => ({
  v: 1,
  writer,
  host: 'h',
  pid: 1,
  state,
  ttlMs: TTL,
  at,
});
const proc = (writer: string): ProcessRecord => ({
  v: 1,
  writer,
  host: 'h',
  pid: 1,
  maxAccounts: 100,
  ttlMs: TTL,
  at: '2020-01-01T00:00:00.000Z',
});

const plan = (book: LeaseBook, now: number, mine: string[], o: { cap?: number; mayRelease?: boolean } = {}) =>
  book.plan({
    now,
    mine: new Set(mine),
    busy: new Set(),
    maxAccounts: o.cap ?? 100,
    batch: 100,
    mayRelease: o.mayRelease ?? true,
  });

describe('when a taker judges whether a lease expired', () => {
  it('counts from when it saw the revision change, not from the owner timestamp', () => {
    const book = new LeaseBook('me', ['a'], TTL);
    // The owner's clock is a year behind: its timestamp alone would say "expired long ago".
    book.observeAccount('a', 5, lease('other', 'held', '2019-01-01T00:00:00.000Z'), false, 1_000);
    expect(book.free('a', 1_000 + TTL)).toBeNull();
    expect(book.owner('a', 1_000 + TTL)).toBe('other');
    expect(book.free('a', 1_000 + TTL + 1)).toBe('expired');
  });

  it('restarts the count on every renewal it sees', () => {
    const book = new LeaseBook('me', ['a'], TTL);
    book.observeAccount('a', 5, lease('other'), false, 0);
    book.observeAccount('a', 6, lease('other'), false, 3_000);
    expect(book.free('a', TTL + 1)).toBeNull();
    expect(book.free('a', 3_000 + TTL + 1)).toBe('expired');
  });

  it('ignores a revision it has already seen (a watch redelivery does not renew)', () => {
    const book = new LeaseBook('me', ['a'], TTL);
    book.observeAccount('a', 6, lease('other'), false, 0);
    expect(book.observeAccount('a', 6, lease('other'), false, 5_000)).toBe(false);
    expect(book.free('a', TTL + 1)).toBe('expired');
  });

  it('sees a released, deleted or never-written lease as free at once', () => {
    const book = new LeaseBook('me', ['a', 'b', 'c'], TTL);
    book.observeAccount('a', 1, lease('other', 'released'), false, 0);
    book.observeAccount('b', 2, null, true, 0);
    expect([book.free('a', 0), book.free('b', 0), book.free('c', 0)]).toEqual(['released', 'absent', 'absent']);
  });

  it('treats an unparsable value as held by an unknown owner until it expires', () => {
    const book = new LeaseBook('me', ['a'], TTL);
    book.observeAccount('a', 1, null, false, 0);
    expect(book.owner('a', 1)).toBe('unknown');
    expect(book.free('a', TTL + 1)).toBe('expired');
  });
});

describe('the owner deadline', () => {
  it('falls before any taker may start', () => {
    // The owner sent its renewal at 100; a taker saw it at 130 at the earliest.
    const owner = ownerDeadline(100, TTL, TTL / 9);
    const book = new LeaseBook('taker', ['a'], TTL);
    book.observeAccount('a', 2, lease('owner'), false, 130);
    expect(book.free('a', owner)).toBeNull();
    expect(owner).toBeLessThan(130 + TTL);
  });
});

describe('when processes share 30 accounts', () => {
  it('alone, a process takes every free account (up to its cap)', () => {
    const book = new LeaseBook('p1', ACCOUNTS, TTL);
    expect(plan(book, 0, []).acquire).toHaveLength(30);
    expect(plan(book, 0, [], { cap: 12 }).acquire).toHaveLength(12);
  });

  it('with three live processes, the fair share is 10 and an owner of 30 releases one per step', () => {
    const book = new LeaseBook('p1', ACCOUNTS, TTL);
    book.observeProcess('p2', 1, proc('p2'), false, 0);
    book.observeProcess('p3', 2, proc('p3'), false, 0);
    expect(book.fairShare(0)).toBe(10);
    const p = plan(book, 0, ACCOUNTS);
    expect(p.target).toBe(10);
    expect(p.acquire).toEqual([]);
    expect(p.release).not.toBeNull();
    expect(plan(book, 0, ACCOUNTS, { mayRelease: false }).release).toBeNull();
  });

  it('a newcomer takes only up to its fair share of the free accounts', () => {
    const book = new LeaseBook('p3', ACCOUNTS, TTL);
    book.observeProcess('p1', 1, proc('p1'), false, 0);
    book.observeProcess('p2', 2, proc('p2'), false, 0);
    ACCOUNTS.forEach((a, i) => book.observeAccount(a, 10 + i, lease(i < 15 ? 'p1' : 'p2'), false, 0));
    // p1 released five; p3 holds none.
    ACCOUNTS.slice(0, 5).forEach((a, i) => book.observeAccount(a, 100 + i, lease('p1', 'released'), false, 1));
    expect(plan(book, 1, []).acquire.sort()).toEqual(ACCOUNTS.slice(0, 5).sort());
    expect(plan(book, 1, ['x', 'y', 'z', 'w', 'v', 'u', 't', 's']).acquire).toHaveLength(2);
  });

  it('forgets a process whose key stopped changing for its TTL: its share goes to the others', () => {
    const book = new LeaseBook('p1', ACCOUNTS, TTL);
    book.observeProcess('p2', 1, proc('p2'), false, 0);
    expect(book.fairShare(TTL)).toBe(15);
    expect(book.liveProcesses(TTL + 1)).toEqual(['p1']);
    expect(book.fairShare(TTL + 1)).toBe(30);
  });

  it('never plans above the cap', () => {
    const book = new LeaseBook('p1', ACCOUNTS, TTL);
    const mine = ACCOUNTS.slice(0, 7);
    expect(plan(book, 0, mine, { cap: 8 }).acquire).toHaveLength(1);
    expect(plan(book, 0, mine, { cap: 7 }).acquire).toHaveLength(0);
  });

  it('tries free accounts in a per-process order, so racing processes mostly pick different ones', () => {
    const first = (w: string) => [...ACCOUNTS].sort((a, b) => rank(w, a) - rank(w, b))[0];
    expect(new Set(['p1', 'p2', 'p3', 'p4'].map(first)).size).toBeGreaterThan(1);
  });
});

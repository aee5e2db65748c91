/**
 * Spike: which server-side fence against a stale writer does nats-server 2.9.10
 * offer? Conclusions are written up in docs/architecture.md ("Fencing one writer per
 * account"); each `it` below is one piece of evidence.
 */
import { jetstream, type JetStreamClient, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeEvent,
  EVENTS_STREAM,
  evtFilter,
  eventMsgId,
  evtSubject,
  FENCE_HEADER,
  fenceSubjects,
  isFenceMarker,
  makeEvent,
} from '../../src/contract/index.js';
import { connectTo, type NatsServer, startNatsServer } from '../support/nats-server.js';

/** JetStream API error for a failed expected-last-(subject-)sequence check. */
const WRONG_LAST_SEQUENCE = 10071;

let server: NatsServer;
let nc: NatsConnection;
let js: JetStreamClient;
let account = 0;

beforeAll(async () => {
  server = await startNatsServer({ jetstream: true });
  nc = await connectTo(server.url);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: EVENTS_STREAM, subjects: [evtFilter()] });
  js = jetstream(nc);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/** A fresh account per test: fencing state is per subject. */
const nextAccount = () => `fence${++account}`;

/**
 * A minimal fenced writer: remembers the last stream sequence of each subject it
 * wrote (learnt from its own acks) and sends it as the expectation on the next
 * publish there. 0 = "nothing on that subject yet". `from` copies another writer's
 * view: a second process that read the stream at that point.
 */
class Writer {
  last: Map<string, number>;
  seq: number;
  constructor(
    readonly account: string,
    readonly id: string,
    from?: Writer,
  ) {
    this.last = new Map(from?.last);
    this.seq = from?.seq ?? 0;
  }

  async publish(type: 'transition' | 'send.sent', msgSeq = ++this.seq) {
    const subject = evtSubject(this.account, type);
    const env = { account: this.account, seq: msgSeq, at: new Date() };
    const body =
      type === 'transition'
        ? makeEvent('transition', env, { from: 'open', to: 'idle', event: 'IdleTimedOut' })
        : makeEvent('send.sent', env, { id: `s${msgSeq}`, waMessageId: `W${msgSeq}` });
    const ack = await js.publish(subject, encodeEvent(body), {
      msgID: eventMsgId(this.account, this.id, msgSeq),
      expect: { lastSubjectSequence: this.last.get(subject) ?? 0 },
    });
    this.last.set(subject, ack.seq);
    return ack;
  }

  /** Takeover: advance every event subject of the account, learning their sequences. */
  async fence() {
    await Promise.all(
      fenceSubjects(this.account).map(async (subject) => {
        const h = headers();
        h.set(FENCE_HEADER, this.id);
        const ack = await js.publish(subject, undefined, { headers: h });
        this.last.set(subject, ack.seq);
      }),
    );
  }
}

async function expectRejected(p: Promise<unknown>) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(JetStreamApiError);
  expect((err as JetStreamApiError).code).toBe(WRONG_LAST_SEQUENCE);
}

const enc = (s: string) => new TextEncoder().encode(s);

describe('when two writers publish for one account on nats-server 2.9.10', () => {
  it('runs against the server version the spike is about', () => {
    expect(nc.info?.version).toBe('2.9.10');
  });

  it('rejects a stale expectation on the same subject', async () => {
    const a = new Writer(nextAccount(), 'a');
    await a.publish('transition');
    const b = new Writer(a.account, 'b', a);
    await b.publish('transition');
    await expectRejected(a.publish('transition'));
  });

  it('does not fence across types: the stale writer still lands on another subject', async () => {
    const a = new Writer(nextAccount(), 'a');
    await a.publish('transition');
    await a.publish('send.sent');
    const b = new Writer(a.account, 'b', a);
    await b.publish('transition');
    // a never saw b's transition, and its send.sent expectation is still right.
    const ack = await a.publish('send.sent');
    expect(ack.duplicate).toBe(false);
  });

  it('ignores the wildcard Expected-Last-Subject-Sequence-Subject header (a 2.11 feature)', async () => {
    const a = new Writer(nextAccount(), 'a');
    const own = await a.publish('transition');
    const b = new Writer(a.account, 'b', a);
    await b.publish('send.sent');
    // "The last message on wa.evt.<a>.> is a's transition" is false now (b's send.sent
    // is), so a server honouring the header rejects this. 2.9.10 stores it.
    const ack = await js.publish(evtSubject(a.account, 'transition'), enc('{}'), {
      expect: { lastSubjectSequence: own.seq, lastSubjectSequenceSubject: evtFilter(a.account) },
    });
    expect(ack.duplicate).toBe(false);
  });

  it('reports a stale publish as a mere duplicate when msg ids are <account>:<seq> only', async () => {
    const account = nextAccount();
    const subject = evtSubject(account, 'transition');
    await js.publish(subject, enc('{"by":"b"}'), { msgID: `${account}:1` });
    // a publishes *its* seq 1 with the right expectation for a fresh subject...
    const ack = await js.publish(subject, enc('{"by":"a"}'), {
      msgID: `${account}:1`,
      expect: { lastSubjectSequence: 0 },
    });
    // ...and is told "duplicate", indistinguishable from a retry of its own: hence the
    // writer id in eventMsgId.
    expect(ack.duplicate).toBe(true);
  });

  it('KV compare-and-set elects one owner, but does not stop the loser publishing events', async () => {
    const kv = await new Kvm(nc).create('wa_fence_spike', { history: 1 });
    const acct = nextAccount();
    const rev = await kv.create(acct, enc('a'));
    await kv.update(acct, enc('b'), rev);
    await expect(kv.update(acct, enc('a'), rev)).rejects.toThrow();
    // a lost the lease, but nothing on WA_EVENTS knows that:
    const ack = await new Writer(acct, 'a').publish('transition');
    expect(ack.duplicate).toBe(false);
  });
});

describe('when a writer takes over with fence markers on every event subject (chosen)', () => {
  it('rejects every publish of the stale writer, whatever the type', async () => {
    const a = new Writer(nextAccount(), 'a');
    await a.publish('transition');
    await a.publish('send.sent');

    const b = new Writer(a.account, 'b', a);
    await b.fence();

    await expectRejected(a.publish('transition'));
    await expectRejected(a.publish('send.sent'));
    // Every other event subject is fenced too: a stale writer expects 0 there.
    for (const subject of fenceSubjects(a.account)) {
      await expectRejected(
        js.publish(subject, enc('{}'), {
          msgID: `${subject}:a`,
          expect: { lastSubjectSequence: a.last.get(subject) ?? 0 },
        }),
      );
    }

    // b carries on normally.
    expect((await b.publish('transition')).duplicate).toBe(false);
    expect((await b.publish('send.sent')).duplicate).toBe(false);
  });

  it('treats a retry of a stored publish as a duplicate, not as fenced', async () => {
    const a = new Writer(nextAccount(), 'a');
    const first = await a.publish('transition');
    // The same fact again, as after a lost ack: same msg id, pre-publish expectation.
    a.last.set(evtSubject(a.account, 'transition'), 0);
    const retry = await a.publish('transition', a.seq);
    expect(retry.duplicate).toBe(true);
    expect(retry.seq).toBe(first.seq);
  });

  it('marks fence messages so consumers can skip them', async () => {
    const b = new Writer(nextAccount(), 'b');
    await b.fence();
    const jsm = await jetstreamManager(nc);
    const m = await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: evtSubject(b.account, 'qr') });
    expect(isFenceMarker(m?.header)).toBe(true);
    expect(m?.header.get(FENCE_HEADER)).toBe('b');
    expect(m?.data.length).toBe(0);
  });
});

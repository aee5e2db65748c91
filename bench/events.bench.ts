// Event publish cost: the gateway's publisher (validate, stamp seq/at, msg id, expected
// last subject sequence, ack, projection update) against a raw JetStream publish of the
// same payload, side by side in one run on one nats-server (its own, temp store).
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { pino } from 'pino';
import { encodeEvent, evtSubject, makeEvent } from '../src/contract/index.js';
import { EventPublisher } from '../src/nats/event-publisher.js';
import { Projection } from '../src/nats/projection.js';
import { DEFAULT_STREAM_SETTINGS, ensureStream } from '../src/nats/stream.js';
import type { Fact } from '../src/runtime/port.js';
import { connectTo, startNatsServer } from '../test/support/nats-server.js';
import type { BenchSection } from './run.js';
import { fmt, median, percentile } from './stats.js';

/** Awaited publishes per side, measured in alternating blocks so drift hits both alike. */
const SAMPLES = 4_000;
const BLOCK = 500;
const WARMUP = 500;
/** Facts handed to the sink at once for the throughput row. */
const BURST = 5_000;

const transition: Omit<Extract<Fact, { type: 'transition' }>, 'account'> = {
  type: 'transition',
  from: 'open',
  to: 'reconnecting',
  event: 'SocketClosed',
  reason: 'connectionLost',
  statusCode: 408,
};

export const title = 'Event publish cost';

export default async function eventsBench(): Promise<BenchSection> {
  const server = await startNatsServer();
  const nc = await connectTo(server.url);
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, DEFAULT_STREAM_SETTINGS, pino({ level: 'silent' }));
    const js = jetstream(nc);
    const publisher = new EventPublisher({
      js,
      jsm,
      writerId: 'bench',
      logger: pino({ level: 'silent' }),
      projection: new Projection(),
    });
    await publisher.adopt(['gw', 'gwburst']);

    let rawSeq = 0;
    const raw = async (js: JetStreamClient) => {
      const event = makeEvent('transition', { account: 'raw', seq: ++rawSeq, at: new Date() }, transition);
      await js.publish(evtSubject('raw', 'transition'), encodeEvent(event));
    };
    const gateway = async () => {
      await publisher.record({ account: 'gw', ...transition }).acked;
    };
    const time = async (f: () => Promise<void>, n: number, into?: number[]) => {
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await f();
        into?.push((performance.now() - t0) * 1000);
      }
    };

    await time(() => raw(js), WARMUP);
    await time(gateway, WARMUP);
    const rawUs: number[] = [];
    const gwUs: number[] = [];
    for (let done = 0; done < SAMPLES; done += BLOCK) {
      await time(() => raw(js), BLOCK, rawUs);
      await time(gateway, BLOCK, gwUs);
    }

    // Throughput: the sink as the runtime uses it (fire and forget, one publish in
    // flight per account) vs raw publishes awaited one by one.
    const t0 = performance.now();
    for (let i = 0; i < BURST; i++) publisher.sink({ account: 'gwburst', ...transition });
    await publisher.flushed('gwburst', 60_000);
    const sinkMs = performance.now() - t0;
    const t1 = performance.now();
    await time(() => raw(js), BURST);
    const rawBurstMs = performance.now() - t1;
    await publisher.close();

    const ratio = median(gwUs) / median(rawUs);
    const row = (name: string, s: number[]) =>
      `| ${name} | ${s.length} | ${fmt(median(s))} | ${fmt(percentile(s, 99))} | ${fmt(s.reduce((a, b) => a + b, 0) / s.length)} |`;
    const markdown = [
      `One nats-server ${nc.info?.version ?? ''} (own process, file store on a temp dir), one client connection, payload: a`,
      '`transition` event (~190 bytes JSON) on `wa.evt.<account>.transition`. Each publish is awaited until its ack.',
      '*raw*: `js.publish(subject, bytes)`, no headers. *gateway*: `EventPublisher.record(fact).acked` — zod validation,',
      'stamping `v/at/seq`, `Nats-Msg-Id` and `Nats-Expected-Last-Subject-Sequence` headers, ack, projection update.',
      `${SAMPLES} samples per side in alternating blocks of ${BLOCK}, after ${WARMUP} warm-up publishes each.`,
      '',
      '| per publish (µs) | samples | median | p99 | mean |',
      '|---|---|---|---|---|',
      row('raw JetStream publish', rawUs),
      row('gateway publisher', gwUs),
      '',
      `**Ratio gateway / raw (medians): ${fmt(ratio, 2)}×** (target ≤ 1.5×).`,
      '',
      `Throughput, ${BURST} facts: gateway sink (fire and forget, strictly ordered, one publish in flight per account) ` +
        `${fmt(BURST / (sinkMs / 1000), 0)} events/s; raw publishes awaited one by one ${fmt(BURST / (rawBurstMs / 1000), 0)} events/s.`,
    ].join('\n');
    return { title, markdown };
  } finally {
    await nc.close();
    await server.stop();
  }
}

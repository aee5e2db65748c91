import { describe, expect, it } from 'vitest';
import {
  deliveryVerdict,
  failed,
  seqGaps,
  sendOutcomes,
  summaryLine,
  terminalProblems,
  textLeaks,
  undeliveredWebhooks,
  unexpired,
  type ChaosEvent,
  type LedgerRow,
  type PlannedSend,
} from '../support/chaos/checks.js';

const A = 'acct';
const chat = '4915100000001@s.whatsapp.net';
const plan = (n: number, over: Partial<PlannedSend> = {}): [string, PlannedSend] => [
  `${A}/s${n}`,
  { account: A, id: `s${n}`, waId: `WA${n}`, chat, text: `T${n}`, ...over },
];
const planned = new Map([plan(1), plan(2), plan(3)]);

/** queued 1..3 then each acked by the server, seqs 1..6. */
const happyEvents = (): ChaosEvent[] => [
  { account: A, seq: 1, type: 'send.queued', id: 's1' },
  { account: A, seq: 2, type: 'send.queued', id: 's2' },
  { account: A, seq: 3, type: 'send.queued', id: 's3' },
  { account: A, seq: 4, type: 'send.acked', id: 's1', ack: 'server' },
  { account: A, seq: 5, type: 'send.acked', id: 's2', ack: 'server' },
  { account: A, seq: 6, type: 'send.acked', id: 's3', ack: 'server' },
];
const row = (n: number, chatSeq: number, over: Partial<LedgerRow> = {}): LedgerRow => ({
  account: A,
  chat,
  id: `WA${n}`,
  text: `T${n}`,
  chatSeq,
  count: 1,
  ...over,
});
const happyLedger = () => [row(1, 1), row(2, 2), row(3, 3)];

describe('the chaos checks', () => {
  it('pass a clean run', () => {
    const outcomes = sendOutcomes(happyEvents());
    const v = deliveryVerdict(outcomes, planned, happyLedger());
    expect(v).toMatchObject({ delivered: 3, lost: [], duplicated: [], outOfOrder: [], resent: 0, mismatched: [] });
    expect(seqGaps(happyEvents())).toEqual([]);
    expect(terminalProblems(outcomes)).toEqual({ missing: [], extra: [] });
  });

  it('find a lost send', () => {
    const v = deliveryVerdict(sendOutcomes(happyEvents()), planned, [row(1, 1), row(3, 2)]);
    expect(v.lost).toEqual([`${A}/s2`]);
  });

  it('do not count a failed or expired send as lost, but flag one that reached WhatsApp anyway', () => {
    const events = happyEvents().map((e) =>
      e.id === 's2' && e.type === 'send.acked' ? { ...e, type: 'send.failed', ack: undefined } : e,
    ) as ChaosEvent[];
    expect(deliveryVerdict(sendOutcomes(events), planned, [row(1, 1), row(3, 2)]).lost).toEqual([]);
    expect(deliveryVerdict(sendOutcomes(events), planned, happyLedger()).reportedButDelivered).toEqual([
      `${A}/s2: failed`,
    ]);
  });

  it('find a duplicate: the same text under a second WhatsApp id, or a message no send explains', () => {
    const v = deliveryVerdict(sendOutcomes(happyEvents()), planned, [...happyLedger(), row(9, 4, { text: 'T2' })]);
    expect(v.duplicated).toHaveLength(2);
  });

  it('count a resend of the same WhatsApp id apart from duplicates', () => {
    const v = deliveryVerdict(sendOutcomes(happyEvents()), planned, [row(1, 1, { count: 2 }), row(2, 2), row(3, 3)]);
    expect(v).toMatchObject({ resent: 1, duplicated: [] });
  });

  it('find a reordering within a chat', () => {
    const v = deliveryVerdict(sendOutcomes(happyEvents()), planned, [row(1, 1), row(3, 2), row(2, 3)]);
    expect(v.outOfOrder).toHaveLength(1);
    expect(v.outOfOrder[0]).toContain(`${A}/s2`);
  });

  it('keep order per chat: two chats interleaving is not a reordering', () => {
    const other = '4915100000002@s.whatsapp.net';
    const p = new Map([plan(1), plan(2, { chat: other }), plan(3)]);
    const v = deliveryVerdict(sendOutcomes(happyEvents()), p, [row(1, 1), row(3, 2), row(2, 1, { chat: other })]);
    expect(v.outOfOrder).toEqual([]);
  });

  it('find a message in the wrong chat or with other text', () => {
    const v = deliveryVerdict(sendOutcomes(happyEvents()), planned, [row(1, 1), row(2, 2, { text: 'x' }), row(3, 3)]);
    expect(v.mismatched).toEqual([`${A}/s2`]);
  });

  it('find a gap and a repeat in an account seq', () => {
    const events = happyEvents().filter((e) => e.seq !== 4);
    expect(seqGaps(events)).toEqual([`${A}: seq 5 after 3 (gap)`]);
    expect(seqGaps([...happyEvents(), { account: A, seq: 6, type: 'send.failed' }])).toEqual([
      `${A}: seq 6 after 6 (repeat)`,
    ]);
    expect(seqGaps([{ account: 'b', seq: 2, type: 'send.queued' }])).toHaveLength(1);
  });

  it('count seqs per retention class: trimmed liveness may jump, but never repeat', () => {
    const live = (seq: number) => ({ account: A, seq, type: 'transition' });
    expect(seqGaps([...happyEvents(), live(1), live(2), live(40)])).toEqual([]);
    expect(seqGaps([...happyEvents(), live(1), live(2), live(2)])).toEqual([`${A} (liveness): seq 2 after 2 (repeat)`]);
  });

  it('find a send with no terminal event and one with two', () => {
    const events = happyEvents().filter((e) => !(e.id === 's1' && e.type === 'send.acked'));
    events.push({ account: A, seq: 7, type: 'send.expired', id: 's2' });
    expect(terminalProblems(sendOutcomes(events))).toEqual({
      missing: [`${A}/s1`],
      extra: [`${A}/s2: acked, expired`],
    });
  });

  it('do not count delivery and read receipts as terminal', () => {
    const events = [...happyEvents(), { account: A, seq: 7, type: 'send.acked', id: 's1', ack: 'delivered' }];
    expect(terminalProblems(sendOutcomes(events)).extra).toEqual([]);
  });

  it('find a held send past its deadline that was never reported expired', () => {
    const past = new Date(1_000).toISOString();
    const events: ChaosEvent[] = [
      { account: A, seq: 1, type: 'send.queued', id: 's1', deadline: past },
      { account: A, seq: 2, type: 'send.queued', id: 's2', deadline: past },
      { account: A, seq: 3, type: 'send.expired', id: 's2' },
    ];
    expect(unexpired(sendOutcomes(events), planned, [], 2_000)).toEqual([`${A}/s1`]);
    // Delivered before its deadline: nothing to report.
    expect(unexpired(sendOutcomes(events), planned, [row(1, 1)], 2_000)).toEqual([]);
    // The deadline has not passed yet.
    expect(unexpired(sendOutcomes(events), planned, [], 500)).toEqual([]);
  });

  it('find an event the webhook receiver never got', () => {
    const events = happyEvents();
    const got = events.filter((e) => e.seq !== 5).map((e) => ({ account: e.account, seq: e.seq }));
    expect(undeliveredWebhooks(events, got)).toEqual([`${A}/5`]);
    expect(undeliveredWebhooks(events, got, (t) => t === 'send.queued')).toEqual([]);
  });

  it('find message text in a log', () => {
    const log = '{"msg":"sent","id":"s1"}\n{"msg":"oops","text":"MRK-7-12 hello"}\n';
    expect(textLeaks(log, /MRK-\d+-\d+/)).toEqual(['MRK-7-12']);
    expect(textLeaks('{"msg":"fine"}', /MRK-\d+-\d+/)).toEqual([]);
  });

  it('print one summary line and fail on anything lost, duplicated, reordered or missing', () => {
    const counts = {
      seed: 7,
      sends: 10,
      accepted: 10,
      faults: 3,
      kills: 2,
      restarts: 1,
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      gaps: 0,
    };
    expect(summaryLine(counts)).toBe(
      'chaos seed=7 sends=10 accepted=10 faults=3 kills=2 restarts=1 lost=0 duplicated=0 out_of_order=0 gaps=0',
    );
    expect(failed(counts)).toBe(false);
    for (const k of ['lost', 'duplicated', 'outOfOrder', 'gaps'] as const)
      expect(failed({ ...counts, [k]: 1 })).toBe(true);
  });
});

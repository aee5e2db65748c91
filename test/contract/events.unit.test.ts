import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_STATES,
  encodeEvent,
  EVENT_TYPES,
  eventMsgId,
  evtSubject,
  isRecordType,
  makeEvent,
  parseEvent,
  type WaEvent,
  WaError,
} from '../../src/contract/index.js';

const env = { account: 'acct1', seq: 7, at: new Date('2025-01-02T03:04:05.678Z') };

/** One valid example per type; also the examples docs/subjects.md can show. */
const examples: WaEvent[] = [
  makeEvent('transition', env, {
    from: 'open',
    to: 'reconnecting',
    event: 'SocketClosed',
    reason: 'connectionLost',
    statusCode: 408,
  }),
  makeEvent('send.queued', env, {
    id: 'ord-1',
    to: '4915123456789@s.whatsapp.net',
    kind: 'text',
    text: 'hi',
    deadline: '2025-01-02T03:05:00Z',
  }),
  makeEvent('send.sent', env, { id: 'ord-1', waMessageId: '3EB0ABCDEF' }),
  makeEvent('send.acked', env, { id: 'ord-1', ack: 'delivered' }),
  makeEvent('send.failed', env, { id: 'ord-1', error: { code: 'logged_out', message: 'account logged out' } }),
  makeEvent('send.failed', env, {
    id: 'ord-2',
    error: { code: 'bad_request', message: 'WhatsApp refused the message (error 463: reachOutRestricted)' },
    retryable: false,
    statusCode: 463,
    reason: 'reachOutRestricted',
  }),
  makeEvent('send.expired', env, { id: 'ord-1' }),
  makeEvent('send.queued', env, {
    id: 'ord-2',
    to: '4915123456789@s.whatsapp.net',
    kind: 'image',
    content: {
      kind: 'image',
      caption: 'the receipt',
      media: { object: 'photo-1.jpg', size: 1048576, sha256: 'ab'.repeat(32), mimetype: 'image/jpeg' },
      replyTo: '3EB0ABCDEF',
      quoted: { id: '3EB0ABCDEF', fromMe: true },
    },
    fingerprint: 'XAnThB7JDNcYumXsKKxkW8',
  }),
  makeEvent('send.uploaded', env, {
    id: 'ord-2',
    media: {
      url: 'https://mmg.whatsapp.net/o1/v/t62.7118-24/abc?ccb=11-4',
      directPath: '/o1/v/t62.7118-24/abc?ccb=11-4',
      mediaKey: 'bWVkaWEta2V5LTMyLWJ5dGVzLWxvbmctLS0tLS0tLS0=',
      fileSha256: 'q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=',
      fileEncSha256: 'EjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJCrze8=',
      fileLength: 1048576,
      mediaKeyTimestamp: 1735787045,
    },
  }),
  makeEvent('message.in', env, {
    waMessageId: 'DEF',
    from: '4915@s.whatsapp.net',
    chat: '4915@s.whatsapp.net',
    timestamp: '2025-01-02T03:04:00.000Z',
    kind: 'image',
    caption: 'look',
    media: { mimetype: 'image/jpeg', size: 20480, sha256: 'cd'.repeat(32), object: 'in/acct1/DEF' },
    replyTo: '3EB0ABCDEF',
  }),
  makeEvent('message.reaction', env, {
    waMessageId: 'R1',
    from: '4915@s.whatsapp.net',
    chat: '4915@s.whatsapp.net',
    target: '3EB0ABCDEF',
    targetFromMe: true,
    emoji: '👍',
    timestamp: '2025-01-02T03:04:00.000Z',
  }),
  makeEvent('message.edited', env, {
    waMessageId: 'E1',
    from: '4915@s.whatsapp.net',
    chat: '4915@s.whatsapp.net',
    target: 'ABC',
    targetFromMe: false,
    text: 'yo!',
    timestamp: '2025-01-02T03:04:00.000Z',
  }),
  makeEvent('message.deleted', env, {
    waMessageId: 'D1',
    from: '4915@s.whatsapp.net',
    chat: '4915@s.whatsapp.net',
    target: 'ABC',
    targetFromMe: false,
    timestamp: '2025-01-02T03:04:00.000Z',
  }),
  makeEvent('message.in', env, {
    waMessageId: 'ABC',
    from: '4915@s.whatsapp.net',
    chat: '4915@s.whatsapp.net',
    text: 'yo',
    timestamp: '2025-01-02T03:04:00.000Z',
  }),
  makeEvent('message.in', env, {
    waMessageId: 'ABD',
    from: '4915@s.whatsapp.net',
    chat: '120363012345678901@g.us',
    participant: '4915@s.whatsapp.net',
    timestamp: '2025-01-02T03:04:00.000Z',
  }),
  makeEvent('send.queued', env, { id: 'ord-2', to: '120363012345678901@g.us', kind: 'text', text: 'all' }),
  makeEvent('receipt', env, {
    id: 'ord-2',
    waMessageId: '3EB0ABCDEF',
    chat: '120363012345678901@g.us',
    participant: '4915@s.whatsapp.net',
    status: 'read',
  }),
  makeEvent('group.participants', env, {
    chat: '120363012345678901@g.us',
    action: 'promote',
    participants: ['4915@s.whatsapp.net'],
    by: '4916@s.whatsapp.net',
  }),
  makeEvent('message.undecryptable', env, {
    waMessageId: 'ABD',
    from: '4915@s.whatsapp.net',
    chat: '4915@s.whatsapp.net',
    reason: 'Bad MAC',
    timestamp: '2025-01-02T03:04:00.000Z',
  }),
  makeEvent('account.banned', env, { until: '2025-01-02T04:04:00.000Z', statusCode: 402, banCode: 101 }),
  makeEvent('qr', env, { qr: '2@abc,def' }),
  makeEvent('paired', env, { jid: '4915123456789:3@s.whatsapp.net' }),
  makeEvent('logged_out', env, { statusCode: 401 }),
  makeEvent('drop.pattern', env, { periodMs: 960_000, confidence: 0.93, samples: 5 }),
  makeEvent('keepalive', env, { probe: 'ping', outcome: 'ok', rttMs: 84, loopDelayMs: 3 }),
  makeEvent('webhook.dead_lettered', env, {
    endpoint: 'crm',
    streamSeq: 1234,
    eventType: 'message.in',
    eventSeq: 6,
    attempts: 1,
    status: 400,
    reason: 'http 400',
  }),
  makeEvent('owner.acquired', env, { writer: 'wB', host: 'gw-2', pid: 4242, previous: 'wA' }),
  makeEvent('owner.released', env, { writer: 'wA', reason: 'shutdown' }),
  makeEvent('owner.lost', env, { writer: 'wA', by: 'wB' }),
];

describe('when an event is encoded and parsed back', () => {
  it('has an example for every type', () => {
    expect(new Set(examples.map((e) => e.type))).toEqual(new Set(EVENT_TYPES));
  });

  it.each(examples.map((e) => [e.type, e] as const))('round-trips %s', (_type, event) => {
    expect(parseEvent(encodeEvent(event))).toEqual(event);
    expect(event).toMatchObject({ v: 1, account: 'acct1', seq: 7, at: '2025-01-02T03:04:05.678Z' });
  });

  it('goes to wa.evt.<account>.<type>', () => {
    expect(evtSubject(examples[1]!.account, examples[1]!.type)).toBe('wa.evt.acct1.send.queued');
  });
});

describe('when an event is malformed', () => {
  const good = examples[0]!;
  it.each([
    ['not JSON', '{'],
    ['not UTF-8', new Uint8Array([0xff, 0xfe])],
    ['unknown type', JSON.stringify({ ...good, type: 'teleport' })],
    ['unknown state', JSON.stringify({ ...good, to: 'sleeping' })],
    ['bad account', JSON.stringify({ ...good, account: 'A.B' })],
    ['seq 0', JSON.stringify({ ...good, seq: 0 })],
    ['time without offset', JSON.stringify({ ...good, at: '2025-01-02 03:04' })],
    ['newer schema version', JSON.stringify({ ...good, v: 2 })],
  ])('refuses %s with bad_request', (_what, input) => {
    const r = parseEvent(input);
    expect(r).toBeInstanceOf(WaError);
    expect((r as WaError).code).toBe('bad_request');
  });

  it('ignores fields it does not know (additive changes keep v)', () => {
    const r = parseEvent(JSON.stringify({ ...good, addedLater: true }));
    expect(r).toEqual(good);
  });
});

describe('when deriving the Nats-Msg-Id', () => {
  it('is the same for a retry of the same fact by the same writer', () => {
    expect(eventMsgId('acct1', 'w7', 7)).toBe('acct1:w7:7');
    expect(eventMsgId('acct1', 'w7', 7)).toBe(eventMsgId('acct1', 'w7', 7));
  });
  it("differs across accounts and writers, so only a writer's own retry dedups", () => {
    expect(eventMsgId('acct1', 'w7', 7)).not.toBe(eventMsgId('acct2', 'w7', 7));
    expect(eventMsgId('acct1', 'w7', 7)).not.toBe(eventMsgId('acct1', 'w8', 7));
    // Records and liveness count seq apart: the same number must not be the same id.
    expect(eventMsgId('acct1', 'w7', 7, 'liveness')).toBe('acct1:w7:l7');
    expect(eventMsgId('acct1', 'w7', 7, 'liveness')).not.toBe(eventMsgId('acct1', 'w7', 7, 'records'));
  });
  it('refuses nonsense', () => {
    expect(() => eventMsgId('acct1', 'w', 0)).toThrow();
    expect(() => eventMsgId('acct1', 'a:b', 1)).toThrow();
    expect(() => eventMsgId('a.b', 'w', 1)).toThrow(WaError);
  });
});

describe('the state names', () => {
  it('are the ones of the design brief', () => {
    expect(ACCOUNT_STATES).toEqual([
      'connecting',
      'open',
      'idle',
      'pinging',
      'draining',
      'reconnecting',
      'pairing',
      'loggedOut',
      'stopped',
    ]);
  });
});

describe('the event classes', () => {
  it('make records of send.*, message.*, receipts, group changes, paired, logged_out, account.banned, webhook dead letters and owner.*, and observability of the rest', () => {
    const record = (t: string) =>
      t.startsWith('send.') ||
      t.startsWith('message.') ||
      t === 'receipt' ||
      t.startsWith('group.') ||
      t === 'paired' ||
      t === 'logged_out' ||
      t === 'account.banned' ||
      t === 'webhook.dead_lettered' ||
      t.startsWith('owner.');
    for (const type of EVENT_TYPES) expect(isRecordType(type), type).toBe(record(type));
  });
});

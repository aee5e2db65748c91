import { describe, expect, it } from 'vitest';
import {
  decodeCommand,
  decodeReply,
  encodeReply,
  encodeRequest,
  MAX_COMMAND_BYTES,
  MAX_TEXT_BYTES,
  toReply,
  WaError,
} from '../../src/contract/index.js';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function expectError(r: unknown, code: string) {
  expect(r).toBeInstanceOf(WaError);
  expect((r as WaError).code).toBe(code);
}

describe('when a client sends a well-formed command', () => {
  it('decodes a send and normalises recipient and deadline', () => {
    const deadline = Date.UTC(2030, 0, 1);
    expect(
      decodeCommand(
        'wa.cmd.acct1.send',
        encodeRequest('send', { id: 'ord-1', to: '+49 151 23456789', text: 'hi', deadline }),
      ),
    ).toEqual({
      verb: 'send',
      account: 'acct1',
      id: 'ord-1',
      to: '4915123456789@s.whatsapp.net',
      content: { kind: 'text', text: 'hi' },
      deadline: '2030-01-01T00:00:00.000Z',
    });
  });

  it('decodes a send without id or deadline', () => {
    expect(decodeCommand('wa.cmd.acct1.send', json({ to: '123456789@lid', text: 'x' }))).toEqual({
      verb: 'send',
      account: 'acct1',
      to: '123456789@lid',
      content: { kind: 'text', text: 'x' },
    });
  });

  it('treats an empty payload as no arguments', () => {
    expect(decodeCommand('wa.cmd.acct1.status', new Uint8Array())).toEqual({ verb: 'status', account: 'acct1' });
    expect(decodeCommand('wa.cmd.accounts.list', '')).toEqual({ verb: 'accounts.list' });
  });

  it('decodes pair with and without a phone', () => {
    expect(decodeCommand('wa.cmd.a.pair', '{}')).toEqual({ verb: 'pair', account: 'a' });
    expect(decodeCommand('wa.cmd.a.pair', json({ phone: '+4915123456789' }))).toEqual({
      verb: 'pair',
      account: 'a',
      phone: '4915123456789',
    });
  });

  it('decodes the fleet verbs', () => {
    expect(decodeCommand('wa.cmd.accounts.add', json({ account: 'b2', keepalive: 'both' }))).toEqual({
      verb: 'accounts.add',
      account: 'b2',
      keepalive: 'both',
    });
    expect(decodeCommand('wa.cmd.accounts.remove', json({ account: 'b2' }))).toEqual({
      verb: 'accounts.remove',
      account: 'b2',
    });
  });

  it('decodes a send to a group', () => {
    expect(decodeCommand('wa.cmd.a.send', json({ to: '120363012345678901@g.us', text: 'all' }))).toMatchObject({
      to: '120363012345678901@g.us',
    });
  });

  it('decodes groups, read (chat normalised, ids deduplicated) and presence', () => {
    expect(decodeCommand('wa.cmd.a.groups', '')).toEqual({ verb: 'groups', account: 'a' });
    expect(decodeCommand('wa.cmd.a.read', json({ chat: '+49 151 2345678', ids: ['X1', 'X2', 'X1'] }))).toEqual({
      verb: 'read',
      account: 'a',
      chat: '491512345678@s.whatsapp.net',
      ids: ['X1', 'X2'],
    });
    expect(decodeCommand('wa.cmd.a.presence', json({ chat: '1-2@g.us', state: 'recording' }))).toEqual({
      verb: 'presence',
      account: 'a',
      chat: '1-2@g.us',
      state: 'recording',
    });
  });

  it.each([
    ['wa.cmd.a.read', { chat: '+491512345678', ids: [] }],
    ['wa.cmd.a.read', { chat: '+491512345678' }],
    ['wa.cmd.a.read', { chat: 'nobody', ids: ['X'] }],
    ['wa.cmd.a.read', { chat: '+491512345678', ids: Array.from({ length: 257 }, (_, i) => `X${i}`) }],
    ['wa.cmd.a.presence', { chat: '+491512345678', state: 'typing' }],
    ['wa.cmd.a.presence', { chat: '+491512345678', state: 'available' }],
    ['wa.cmd.a.groups', { all: true }],
  ])('refuses %s %j with bad_request', (subject, body) => {
    expectError(decodeCommand(subject, json(body)), 'bad_request');
  });

  it('accepts text exactly at the limit', () => {
    const r = decodeCommand('wa.cmd.a.send', json({ to: '4915123456789', text: 'x'.repeat(MAX_TEXT_BYTES) }));
    expect(r).not.toBeInstanceOf(WaError);
  });
});

describe('when a client sends a malformed command', () => {
  it.each([
    ['bad JSON', 'wa.cmd.a.send', '{"to":'],
    ['an array', 'wa.cmd.a.send', '[]'],
    ['a number', 'wa.cmd.a.status', '42'],
    ['missing text', 'wa.cmd.a.send', '{"to":"4915123456789"}'],
    ['text as number', 'wa.cmd.a.send', '{"to":"4915123456789","text":5}'],
    ['empty text', 'wa.cmd.a.send', '{"to":"4915123456789","text":""}'],
    ['unknown field', 'wa.cmd.a.send', '{"to":"4915123456789","text":"x","dedline":1}'],
    ['bad recipient', 'wa.cmd.a.send', '{"to":"0151","text":"x"}'],
    ['bad id', 'wa.cmd.a.send', '{"id":"a b","to":"4915123456789","text":"x"}'],
    ['bad deadline', 'wa.cmd.a.send', '{"to":"4915123456789","text":"x","deadline":"tomorrow"}'],
    ['arguments to status', 'wa.cmd.a.status', '{"x":1}'],
    ['unknown verb', 'wa.cmd.a.reboot', '{}'],
    ['bad account', 'wa.cmd.A!.status', '{}'],
    ['reserved account', 'wa.cmd.accounts.status', '{}'],
    ['bad account in add', 'wa.cmd.accounts.add', '{"account":"Nope"}'],
    ['odd subject', 'foo', '{}'],
  ])('answers %s with bad_request', (_what, subject, body) => {
    expectError(decodeCommand(subject, body), 'bad_request');
  });

  it('answers an oversize payload with too_large before parsing it', () => {
    expectError(decodeCommand('wa.cmd.a.send', new Uint8Array(MAX_COMMAND_BYTES + 1)), 'too_large');
  });

  it('answers oversize text with too_large', () => {
    expectError(
      decodeCommand('wa.cmd.a.send', json({ to: '4915123456789', text: 'é'.repeat(MAX_TEXT_BYTES / 2 + 1) })),
      'too_large',
    );
  });
});

describe('when a client reads a reply', () => {
  it('gets the ok body', () => {
    const reply = { ok: true, id: 'ord-1', status: 'queued', seq: 3 } as const;
    expect(decodeReply('send', encodeReply(reply))).toEqual(reply);
  });
  it('gets the server error as a WaError with its code', () => {
    const r = decodeReply('send', encodeReply(toReply(new WaError('unknown_account', 'no account x'))));
    expectError(r, 'unknown_account');
  });
  it('treats an unexpected reply as internal', () => {
    expectError(decodeReply('status', '{"ok":true}'), 'internal');
    expectError(decodeReply('status', 'nope'), 'internal');
  });
});

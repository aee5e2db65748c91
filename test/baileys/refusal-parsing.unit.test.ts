import { describe, expect, it } from 'vitest';
import type { WAMessage } from '@whiskeysockets/baileys';
import { KNOWN_REFUSALS, refusalOf } from '../../src/baileys/refusals.js';
import { temporaryBan } from '../../src/baileys/temporary-ban.js';
import { toUndecryptable, undecryptableKind } from '../../src/baileys/undecryptable.js';

describe('a refused send', () => {
  it('is never to be retried for 463 and 479', () => {
    expect(refusalOf('463')).toEqual({ statusCode: 463, reason: 'reachOutRestricted', retryable: false });
    expect(refusalOf('479')).toEqual({ statusCode: 479, reason: 'invalidStanza', retryable: false });
  });
  it('may be sent again later for server trouble and rate limits', () => {
    expect(refusalOf('503')).toMatchObject({ retryable: true });
    expect(refusalOf('429')).toMatchObject({ retryable: true });
  });
  it('fails closed for a code nobody knows', () => {
    expect(refusalOf('418')).toEqual({ statusCode: 418, reason: 'refused', retryable: false });
  });
  it('has one row per code', () => {
    const codes = KNOWN_REFUSALS.map((r) => r.statusCode);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe('a 402 close', () => {
  it("waits the failure's expire seconds and keeps its code", () => {
    expect(temporaryBan(402, { reason: '402', expire: '3600', code: '101' })).toEqual({
      retryAfterMs: 3_600_000,
      banCode: 101,
    });
  });
  it('says nothing without attributes, or for other codes', () => {
    expect(temporaryBan(402, { reason: '402' })).toEqual({});
    expect(temporaryBan(402, undefined)).toEqual({});
    expect(temporaryBan(401, { reason: '401', expire: '10' })).toEqual({});
    expect(temporaryBan(402, { reason: '402', expire: 'soon' })).toEqual({});
  });
});

describe('a CIPHERTEXT stub', () => {
  const stub = {
    key: {
      id: 'ID1',
      remoteJid: '123456789012345@lid',
      remoteJidAlt: '4915100000001@s.whatsapp.net',
      fromMe: false,
    },
    messageStubType: 2,
    messageStubParameters: ['Bad MAC'],
    messageTimestamp: 1_700_000_000,
  } as unknown as WAMessage;

  it('becomes an undecryptable record with the phone-number JID', () => {
    expect(toUndecryptable(stub)).toEqual({
      waMessageId: 'ID1',
      from: '4915100000001@s.whatsapp.net',
      chat: '4915100000001@s.whatsapp.net',
      reason: 'Bad MAC',
      timestamp: 1_700_000_000_000,
    });
  });
  it('is not one once the message has content, or when it is our own', () => {
    expect(toUndecryptable({ ...stub, message: { conversation: 'hi' } } as WAMessage)).toBeUndefined();
    expect(toUndecryptable({ ...stub, key: { ...stub.key, fromMe: true } } as WAMessage)).toBeUndefined();
  });
  it('is counted by a bounded kind', () => {
    expect(undecryptableKind('Bad MAC')).toBe('bad_mac');
    expect(undecryptableKind('No session record')).toBe('no_session');
    expect(undecryptableKind('No matching sessions found for message')).toBe('no_session');
    expect(undecryptableKind('Invalid PreKey ID')).toBe('invalid_prekey');
    expect(undecryptableKind('Message absent from node')).toBe('no_content');
    expect(undecryptableKind('Key used already or never filled')).toBe('key_used');
    expect(undecryptableKind('something new')).toBe('other');
  });
});

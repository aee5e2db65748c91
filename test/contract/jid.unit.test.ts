import { describe, expect, it } from 'vitest';
import { normalisePhone, normaliseRecipient, WaError } from '../../src/contract/index.js';

describe('when a send names its recipient', () => {
  it.each([
    ['+4915123456789', '4915123456789@s.whatsapp.net'],
    ['4915123456789', '4915123456789@s.whatsapp.net'],
    ['+49 151 2345-6789', '4915123456789@s.whatsapp.net'],
    ['+1 (555) 123.4567', '15551234567@s.whatsapp.net'],
    ['4915123456789@s.whatsapp.net', '4915123456789@s.whatsapp.net'],
    ['4915123456789@S.WhatsApp.Net', '4915123456789@s.whatsapp.net'],
    ['4915123456789@c.us', '4915123456789@s.whatsapp.net'],
    ['123456789012345@lid', '123456789012345@lid'],
    ['120363012345678901@g.us', '120363012345678901@g.us'],
    ['4915123456789-1612345678@G.US', '4915123456789-1612345678@g.us'],
  ])('normalises %j to %j', (input, jid) => {
    expect(normaliseRecipient(input)).toBe(jid);
  });

  it.each([
    '0151234567', // national form: no country code
    '004915123456789', // 00 prefix: ambiguous, ask for +
    '+12345', // too short
    '+1234567890123456', // longer than E.164
    'abc',
    'abc-1@g.us', // not a group id
    '123-@g.us',
    'status@broadcast',
    '49151:12@s.whatsapp.net', // device JID
    '@s.whatsapp.net',
    'x@s.whatsapp.net',
    '4915123456789@example.com',
  ])('refuses %j with bad_request', (input) => {
    const r = normaliseRecipient(input);
    expect(r).toBeInstanceOf(WaError);
    expect((r as WaError).code).toBe('bad_request');
  });

  it('gives a pairing phone as digits only', () => {
    expect(normalisePhone('+49 151 23456789')).toBe('4915123456789');
  });
});

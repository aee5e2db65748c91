/**
 * Send kinds at the edge (issue 13): each kind decodes to its content, a request without
 * `kind` is a text, unknown kinds and fields are refused, and the fingerprint that makes
 * a reused id a `conflict` compares content, not field order.
 */
import { describe, expect, it } from 'vitest';
import { decodeCommand, requestFingerprint, type SendContent, WaError } from '../../src/contract/index.js';

const TO = '4915123456789@s.whatsapp.net';
const decode = (body: unknown) => decodeCommand('wa.cmd.a.send', JSON.stringify(body));
const content = (body: Record<string, unknown>) => {
  const cmd = decode({ to: '+4915123456789', ...body });
  if (cmd instanceof WaError) throw cmd;
  return (cmd as { content: SendContent }).content;
};
const code = (body: Record<string, unknown>) => (decode({ to: '+4915123456789', ...body }) as WaError).code;

describe('a send request', () => {
  it('without a kind is a text, as it always was', () => {
    expect(content({ text: 'hi' })).toEqual({ kind: 'text', text: 'hi' });
    expect(content({ text: 'hi', replyTo: '3EB0AB' })).toEqual({ kind: 'text', text: 'hi', replyTo: '3EB0AB' });
  });

  it('names every kind with its fields', () => {
    const cases: Record<string, unknown>[] = [
      { kind: 'image', media: { object: 'p.jpg' }, caption: 'c', replyTo: '3EB0AB' },
      { kind: 'video', media: { url: 'https://example.com/v.mp4' }, mimetype: 'video/mp4' },
      { kind: 'audio', media: { base64: 'AAEC' }, voiceNote: true },
      { kind: 'document', media: { object: 'd.pdf' }, fileName: 'd.pdf', caption: 'invoice' },
      { kind: 'sticker', media: { object: 's.webp' } },
      { kind: 'location', location: { latitude: 52.5, longitude: 13.4, name: 'Berlin' } },
      { kind: 'contact', contact: { vcard: 'BEGIN:VCARD\nFN:Ada\nEND:VCARD' } },
      { kind: 'reaction', target: '3EB0AB', emoji: '' },
      { kind: 'edit', target: '3EB0AB', text: 'fixed' },
      { kind: 'delete', target: '3EB0AB' },
    ];
    for (const c of cases) expect(content(c), String(c.kind)).toEqual(c);
  });

  it('refuses an unknown kind, a field of another kind, two media sources and a non-http URL', () => {
    expect(code({ kind: 'poll', text: 'x' })).toBe('bad_request');
    expect(code({ kind: 'sticker', media: { object: 's' }, caption: 'no captions on stickers' })).toBe('bad_request');
    expect(code({ kind: 'image', media: { object: 'a', url: 'https://x.y/z' } })).toBe('bad_request');
    expect(code({ kind: 'image', media: { url: 'file:///etc/passwd' } })).toBe('bad_request');
    expect(code({ kind: 'image' })).toBe('bad_request');
    expect(code({ kind: 'location', location: { latitude: 91, longitude: 0 } })).toBe('bad_request');
    expect(code({ kind: 'contact', contact: { vcard: 'not a card' } })).toBe('bad_request');
  });
});

describe('the request fingerprint', () => {
  it('of a plain text is the one it always was', () => {
    expect(requestFingerprint(TO, { kind: 'text', text: 'hi' })).toBe(requestFingerprint(TO, 'hi'));
  });

  it('ignores field order and tells any other difference apart', () => {
    const a: SendContent = { kind: 'image', media: { object: 'p.jpg' }, caption: 'c' };
    const reordered = JSON.parse('{"caption":"c","media":{"object":"p.jpg"},"kind":"image"}') as SendContent;
    expect(requestFingerprint(TO, reordered)).toBe(requestFingerprint(TO, a));
    const different: SendContent[] = [
      { kind: 'image', media: { object: 'q.jpg' }, caption: 'c' },
      { kind: 'image', media: { object: 'p.jpg' }, caption: 'd' },
      { kind: 'document', media: { object: 'p.jpg' }, caption: 'c' },
      { kind: 'text', text: 'hi', replyTo: '3EB0AB' },
    ];
    for (const d of different) expect(requestFingerprint(TO, d)).not.toBe(requestFingerprint(TO, a));
    expect(requestFingerprint(TO, { kind: 'text', text: 'hi', replyTo: '3EB0AB' })).not.toBe(
      requestFingerprint(TO, 'hi'),
    );
  });
});

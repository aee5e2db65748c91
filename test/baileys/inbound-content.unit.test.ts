/**
 * Inbound mapping (src/baileys/inbound-content.ts): what Baileys hands over becomes a
 * kind with its fields, or a reaction, edit or delete of an earlier message.
 */
import { describe, expect, it } from 'vitest';
import { inboundContent } from '../../src/baileys/inbound-content.js';

describe('an inbound message', () => {
  it('is text, with the message it quotes', () => {
    expect(inboundContent({ conversation: 'hi' })).toEqual({ type: 'message', kind: 'text', text: 'hi' });
    expect(inboundContent({ extendedTextMessage: { text: 'yes', contextInfo: { stanzaId: '3EB0AB' } } })).toEqual({
      type: 'message',
      kind: 'text',
      text: 'yes',
      replyTo: '3EB0AB',
    });
  });

  it('is media with its metadata and what a later download needs', () => {
    const c = inboundContent({
      documentMessage: {
        url: 'https://mmg.example/x',
        directPath: '/v/x',
        mediaKey: Buffer.from('k'.repeat(32)),
        fileSha256: Buffer.alloc(32, 1),
        fileEncSha256: Buffer.alloc(32, 2),
        fileLength: 1234,
        mimetype: 'application/pdf',
        fileName: 'a.pdf',
        caption: 'the invoice',
        mediaKeyTimestamp: 1700000000,
      },
    });
    expect(c).toMatchObject({
      type: 'message',
      kind: 'document',
      caption: 'the invoice',
      media: {
        mimetype: 'application/pdf',
        size: 1234,
        sha256: '01'.repeat(32),
        fileName: 'a.pdf',
        directPath: '/v/x',
        url: 'https://mmg.example/x',
        mediaKey: Buffer.from('k'.repeat(32)).toString('base64'),
        mediaKeyTimestamp: 1700000000,
      },
    });
    expect(inboundContent({ audioMessage: { ptt: true, seconds: 7, url: 'u' } })).toMatchObject({
      kind: 'audio',
      media: { voiceNote: true, seconds: 7 },
    });
  });

  it('is a location or a contact card', () => {
    expect(inboundContent({ locationMessage: { degreesLatitude: 1.5, degreesLongitude: 2.5, name: 'x' } })).toEqual({
      type: 'message',
      kind: 'location',
      location: { latitude: 1.5, longitude: 2.5, name: 'x' },
    });
    expect(inboundContent({ contactMessage: { displayName: 'Ada', vcard: 'BEGIN:VCARD\nEND:VCARD' } })).toEqual({
      type: 'message',
      kind: 'contact',
      contact: { displayName: 'Ada', vcard: 'BEGIN:VCARD\nEND:VCARD' },
    });
  });

  it('is a reaction, an edit or a delete of an earlier message', () => {
    expect(inboundContent({ reactionMessage: { key: { id: 'M1', fromMe: true }, text: '👍' } })).toEqual({
      type: 'reaction',
      target: 'M1',
      targetFromMe: true,
      emoji: '👍',
    });
    expect(
      inboundContent({
        protocolMessage: { type: 14, key: { id: 'M2' }, editedMessage: { conversation: 'fixed' } },
      }),
    ).toEqual({ type: 'edited', target: 'M2', targetFromMe: false, text: 'fixed' });
    expect(inboundContent({ protocolMessage: { type: 0, key: { id: 'M3' } } })).toEqual({
      type: 'deleted',
      target: 'M3',
      targetFromMe: false,
    });
  });

  it('is nothing a user sent when it is another protocol message', () => {
    expect(inboundContent({ protocolMessage: { type: 5, key: { id: 'M4' } } })).toBeUndefined();
  });
});

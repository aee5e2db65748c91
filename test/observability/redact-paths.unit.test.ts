// Redaction by path: secrets are censored where they live; fields that merely share a
// common name with one (a stream error's `code`, an error's `code`) are kept, because
// they are what an operator reads to understand a fault.
import { describe, expect, it } from 'vitest';
import { WaError } from '../../src/contract/errors.js';
import { createLogger, REDACTED } from '../../src/logging/logger.js';

function logged(obj: Record<string, unknown>): Record<string, unknown> {
  const lines: string[] = [];
  createLogger({ level: 'trace' }, { write: (l: string) => void lines.push(l) }).info(obj, 'probe');
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('log redaction', () => {
  it('keeps a stream error code, an error code and a Node error code', () => {
    const stream = logged({ fullErrorNode: { tag: 'stream:error', attrs: { code: '408' } } });
    expect(stream.fullErrorNode).toEqual({ tag: 'stream:error', attrs: { code: '408' } });
    const wa = logged({ err: new WaError('unavailable', 'auth store is closed') });
    expect((wa.err as { code?: string }).code).toBe('unavailable');
    const net = logged({
      err: Object.assign(new Error('getaddrinfo ENOTFOUND web.whatsapp.com'), { code: 'ENOTFOUND' }),
    });
    expect((net.err as { code?: string }).code).toBe('ENOTFOUND');
    expect(logged({ code: 515 }).code).toBe(515);
  });

  it('censors credentials, key material, pairing secrets and message text where they live', () => {
    const keyPair = { public: 'PUB', private: 'PRIV' };
    const line = logged({
      creds: { noiseKey: keyPair, advSecretKey: 'ADV' },
      keys: { 'pre-key': { 1: keyPair } },
      session: { noiseKey: keyPair, signedPreKey: { keyPair, signature: 'SIG' } },
      pair: { pairingCode: 'ABCD1234', qr: '2@ref' },
      text: 'hello',
      event: { type: 'send.queued', text: 'hello' },
      fullMessage: { key: { id: 'X' }, message: { conversation: 'hi', extendedTextMessage: { text: 'hey' } } },
      req: { headers: { authorization: 'Bearer t' } },
      token: 'tok',
    });
    const json = JSON.stringify(line);
    for (const secret of ['PRIV', 'ADV', 'ABCD1234', '2@ref', 'hello', '"hi"', 'hey', 'Bearer t', 'tok"'])
      expect(json).not.toContain(secret);
    expect(line.creds).toBe(REDACTED);
    expect(line.text).toBe(REDACTED);
    // What is not secret around them stays.
    expect((line.fullMessage as { key: unknown }).key).toEqual({ id: 'X' });
    expect((line.event as { type: unknown }).type).toBe('send.queued');
  });
});

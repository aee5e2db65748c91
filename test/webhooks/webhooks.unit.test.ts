import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { webhookEndpointSchema } from '../../src/contract/index.js';
import { makeEvent } from '../../src/contract/index.js';
import { isDisallowedAddress } from '../../src/webhooks/address.js';
import { wants } from '../../src/webhooks/filter.js';
import { parseRetryAfter } from '../../src/webhooks/http.js';
import { retryDelay } from '../../src/webhooks/retry.js';
import { Signer, webhookBody, webhookId } from '../../src/webhooks/signing.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const event = makeEvent(
  'message.in',
  { account: 'acct', seq: 42, at: '2026-11-25T17:08:28.807Z' },
  { waMessageId: 'W', from: 'a@s.whatsapp.net', chat: 'a@s.whatsapp.net', timestamp: '2026-11-25T17:08:28.000Z' },
);

describe('disallowed addresses', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '0.0.0.0',
    '169.254.169.254',
    '::1',
    '::',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '[::1]',
  ])('refuses %s', (a) => expect(isDisallowedAddress(a)).toBe(true));
  it.each(['10.0.0.1', '192.168.1.1', '8.8.8.8', '2001:db8::1', '::ffff:808:808', 'example.com'])('allows %s', (a) =>
    expect(isDisallowedAddress(a)).toBe(false),
  );
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates, ignores the unreadable', () => {
    const now = Date.parse('2026-11-25T17:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 17:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 16:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('retry delays', () => {
  const policy = { attempts: 10, baseMs: 100, capMs: 1_000 };
  it('grow exponentially under full jitter up to the cap', () => {
    expect(retryDelay(policy, 1, undefined, () => 0.999)).toBe(99);
    expect(retryDelay(policy, 3, undefined, () => 0.999)).toBe(399);
    expect(retryDelay(policy, 30, undefined, () => 0.999)).toBe(999);
    expect(retryDelay(policy, 5, undefined, () => 0)).toBe(0);
  });
  it('follow Retry-After, capped', () => {
    expect(retryDelay(policy, 1, 500)).toBe(500);
    expect(retryDelay(policy, 1, 60_000)).toBe(1_000);
  });
});

describe('signing', () => {
  it('verifies with the standardwebhooks verifier, with a webhook-id stable per event', () => {
    const req = new Signer(secret).sign(webhookId(event), webhookBody(event), new Date());
    expect(req.headers['webhook-id']).toBe('evt_acct_42');
    expect(new Webhook(secret).verify(req.body, req.headers)).toEqual({
      type: 'message.in',
      timestamp: event.at,
      data: event,
    });
    expect(() =>
      new Webhook('whsec_' + Buffer.alloc(24, 1).toString('base64')).verify(req.body, req.headers),
    ).toThrow();
  });
});

describe('endpoint filters', () => {
  const ep = (extra: Record<string, unknown>) =>
    webhookEndpointSchema.parse({ id: 'x', url: 'https://example.com/', secret, ...extra });
  it('take every account and every type but dead letters by default', () => {
    expect(wants(ep({}), event)).toBe(true);
    const dead = makeEvent(
      'webhook.dead_lettered',
      { account: 'acct', seq: 43, at: new Date() },
      { endpoint: 'x', streamSeq: 1, eventType: 'message.in', eventSeq: 42, attempts: 1, reason: 'http 400' },
    );
    expect(wants(ep({}), dead)).toBe(false);
    expect(wants(ep({ types: ['webhook.dead_lettered'] }), dead)).toBe(true);
    expect(wants(ep({ accounts: ['other'] }), event)).toBe(false);
    expect(wants(ep({ types: ['send.acked'] }), event)).toBe(false);
  });
  it('refuse a secret that is not base64 of enough bytes', () => {
    expect(
      webhookEndpointSchema.safeParse({ id: 'x', url: 'https://example.com/', secret: 'whsec_short' }).success,
    ).toBe(false);
    expect(
      webhookEndpointSchema.safeParse({
        id: 'x',
        url: 'https://example.com/',
        secret: 'hunter2hunter2hunter2hunter2hunter2!!',
      }).success,
    ).toBe(false);
  });
});

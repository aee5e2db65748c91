import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/runtime-harness.js';

const FRIEND = '4915100000042';

describe('inbound messages', () => {
  let h: Harness;
  let phone: string;
  beforeAll(async () => {
    h = await startHarness();
    ({ phone } = await h.addAccount('inbox'));
    await h.facts.entered('inbox', 'open');
  });
  afterAll(async () => h?.close());

  it('become exactly one message.in each, with text and sender', async () => {
    const { id } = h.sim.pushInbound({ account: phone, from: FRIEND, text: 'hi there' });
    const got = await h.facts.until('message.in', () =>
      h.facts.of('message.in', 'inbox').find((m) => m.waMessageId === id),
    );
    expect(got).toMatchObject({ text: 'hi there', chat: `${FRIEND}@s.whatsapp.net`, from: `${FRIEND}@s.whatsapp.net` });
  });

  it('queued by WhatsApp while the link was down arrive after reconnect (append), once each, in order', async () => {
    h.gateway.disconnect('inbox');
    await h.facts.entered('inbox', 'stopped');
    const ids = ['one', 'two', 'three'].map((text) => h.sim.pushInbound({ account: phone, from: FRIEND, text }).id);
    h.gateway.connect('inbox');
    await h.facts.until('all three', () =>
      ids.every((id) => h.facts.of('message.in', 'inbox').some((m) => m.waMessageId === id)) ? true : undefined,
    );
    const received = h.facts.of('message.in', 'inbox').filter((m) => ids.includes(m.waMessageId));
    expect(received.map((m) => m.text)).toEqual(['one', 'two', 'three']);
  });

  it('are not published twice when WhatsApp delivers the same id again', async () => {
    const { id } = h.sim.pushInbound({ account: phone, from: FRIEND, text: 'dup', id: '3EB0DUPLICATE0001' });
    await h.facts.until('first copy', () => h.facts.of('message.in', 'inbox').find((m) => m.waMessageId === id));
    h.sim.pushInbound({ account: phone, from: FRIEND, text: 'dup', id: '3EB0DUPLICATE0001' });
    const marker = h.sim.pushInbound({ account: phone, from: FRIEND, text: 'after' }).id;
    await h.facts.until('the message after it', () =>
      h.facts.of('message.in', 'inbox').find((m) => m.waMessageId === marker),
    );
    expect(h.facts.of('message.in', 'inbox').filter((m) => m.waMessageId === id)).toHaveLength(1);
  });
});

describe('pairing', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('by QR: publishes the QR, and `paired` once the phone scanned it', async () => {
    await h.gateway.add('newbie', { connect: false });
    expect(await h.gateway.pair('newbie')).toEqual({ method: 'qr' });
    const { qr } = await h.facts.until('qr', () => h.facts.of('qr', 'newbie')[0]);
    expect(h.gateway.state('newbie')).toBe('pairing');
    h.sim.scanQr(qr);
    const paired = await h.facts.until('paired', () => h.facts.of('paired', 'newbie')[0]);
    expect(paired.jid).toMatch(/@s\.whatsapp\.net$/);
    await h.facts.entered('newbie', 'open');
    expect(h.facts.transitions('newbie').map((t) => t.to)).toEqual(['connecting', 'pairing', 'connecting', 'open']);
    expect(h.gateway.runtime('newbie').isPaired()).toBe(true);
  });

  it('by pairing code: returns the code to type on the phone', async () => {
    await h.gateway.add('coder', { connect: false });
    const phone = '4915200000077';
    const { method, code } = await h.gateway.pair('coder', phone);
    expect(method).toBe('code');
    expect(code).toMatch(/^[A-Z0-9]{8}$/);
    // The user types the code on the phone; the client's hello may still be on its way.
    await h.facts.until(
      'companion hello at the server',
      () => (h.sim.sessions().some((s) => s.pairing === 'code') ? true : undefined),
      10_000,
      20,
    );
    await h.sim.enterPairingCode(phone, code!);
    await h.facts.until('paired', () => h.facts.of('paired', 'coder')[0]);
    await h.facts.entered('coder', 'open');
    expect(h.facts.of('qr', 'coder')).toEqual([]);
  });

  it('refuses to pair an account that is already paired', async () => {
    await h.addAccount('veteran', { connect: false });
    await expect(h.gateway.pair('veteran')).rejects.toMatchObject({ code: 'bad_request' });
  });
});

import { describe, expect, it } from 'vitest';
import {
  accountsCmdSubject,
  cmdSubject,
  evtFilter,
  evtSubject,
  evtTypeFilter,
  isAccountId,
  parseCmdSubject,
  WaError,
} from '../../src/contract/index.js';

describe('when validating account ids', () => {
  it.each(['a', 'acct-1', 'x_y', '0', 'a'.repeat(32)])('accepts %s', (id) => {
    expect(isAccountId(id)).toBe(true);
  });
  it.each(['', 'A', '-a', '_a', 'a.b', 'a*', 'a>', 'a b', 'a'.repeat(33), 'accounts', 'ä'])('refuses %j', (id) => {
    expect(isAccountId(id)).toBe(false);
  });
});

describe('when building subjects', () => {
  it('puts the account and the type into the event subject', () => {
    expect(evtSubject('acct1', 'send.queued')).toBe('wa.evt.acct1.send.queued');
  });
  it('filters all accounts or one', () => {
    expect(evtFilter()).toBe('wa.evt.>');
    expect(evtFilter('acct1')).toBe('wa.evt.acct1.>');
    expect(evtTypeFilter('transition')).toBe('wa.evt.*.transition');
  });
  it('builds command subjects', () => {
    expect(cmdSubject('acct1', 'send')).toBe('wa.cmd.acct1.send');
    expect(accountsCmdSubject('list')).toBe('wa.cmd.accounts.list');
  });
  it('refuses to build a subject from an id that would widen it', () => {
    expect(() => evtSubject('a.>', 'qr')).toThrow(WaError);
    expect(() => cmdSubject('*', 'status')).toThrow(WaError);
  });
});

describe('when parsing a command subject', () => {
  it('returns account and verb', () => {
    expect(parseCmdSubject('wa.cmd.acct1.status')).toEqual({ scope: 'account', account: 'acct1', verb: 'status' });
    expect(parseCmdSubject('wa.cmd.accounts.add')).toEqual({ scope: 'accounts', verb: 'accounts.add' });
  });
  it.each([
    'wa.cmd.acct1',
    'wa.cmd.acct1.send.extra',
    'wa.evt.acct1.send',
    'wa.cmd.acct1.reboot',
    'wa.cmd.accounts.send',
    'wa.cmd.ACCT.send',
    'wa.cmd..send',
    '',
  ])('answers %j with bad_request', (subject) => {
    const r = parseCmdSubject(subject);
    expect(r).toBeInstanceOf(WaError);
    expect((r as WaError).code).toBe('bad_request');
  });
});

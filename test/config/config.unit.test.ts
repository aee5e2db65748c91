import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validateConfig } from '../../src/config/load.js';
import { CONFIG_DOC, renderConfigDoc } from '../../scripts/config-doc.js';

const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  it('runs one account "default" against WhatsApp with NATS on localhost when nothing is set', () => {
    const c = loadConfig({ env: {} });
    expect(c.accounts).toEqual([{ id: 'default', connect: true }]);
    expect(c.nats.url).toBe('nats://127.0.0.1:4222');
    expect(c.whatsapp.url).toBeUndefined();
  });

  it('names the key, the value given and what is allowed', () => {
    expect(problems(() => validateConfig({ accounts: [{ id: 'sales', keepalive: 'pong' }] }))).toEqual([
      'accounts.0.keepalive: got "pong"; Invalid option: expected one of "ping"|"presence"|"both"|"off"',
    ]);
    expect(problems(() => validateConfig({ nats: { url: 'http://x:4222' } }))).toEqual([
      'nats.url: got "http://x:4222"; a nats://host:port URL (a cluster: several, comma-separated)',
    ]);
    expect(problems(() => validateConfig({ acounts: [] }))).toEqual(['acounts: unknown key']);
    expect(problems(() => validateConfig({ accounts: [{ id: 'a' }, { id: 'a' }] }))).toEqual([
      'accounts.1.id: got "a"; account id a appears twice',
    ]);
  });

  it('refuses the reserved account id "accounts" (file and WA_CONND_ACCOUNTS), saying why', () => {
    const fromFile = problems(() => validateConfig({ accounts: [{ id: 'sales' }, { id: 'accounts' }] }));
    expect(fromFile).toHaveLength(1);
    expect(fromFile[0]).toMatch(/^accounts\.1\.id: got "accounts"; .*reserved.*wa\.cmd\.accounts\./);
    const fromEnv = problems(() => loadConfig({ env: { WA_CONND_ACCOUNTS: 'sales,accounts' } }));
    expect(fromEnv).toEqual(fromFile);
  });

  it('reads YAML and lets the environment override it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wa-connd-config-'));
    const file = path.join(dir, 'gw.yaml');
    writeFileSync(file, 'nats:\n  url: nats://a:4222\naccounts:\n  - id: sales\n    keepalive: ping\n');
    const c = loadConfig({ file, env: { NATS_URL: 'nats://b:4222' } });
    expect(c.nats.url).toBe('nats://b:4222');
    expect(c.accounts).toEqual([{ id: 'sales', keepalive: 'ping', connect: true }]);
    expect(loadConfig({ file, env: { WA_CONND_ACCOUNTS: 'x, y' } }).accounts.map((a) => a.id)).toEqual(['x', 'y']);
  });

  it('says which file is broken and how', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wa-connd-config-'));
    const file = path.join(dir, 'gw.yaml');
    writeFileSync(file, 'nats: [unclosed');
    expect(problems(() => loadConfig({ file, env: {} }))[0]).toMatch(/^config file .*gw\.yaml: not valid YAML/);
    expect(problems(() => loadConfig({ file: path.join(dir, 'missing.yaml'), env: {} }))[0]).toMatch(/cannot be read/);
  });

  it('is documented: docs/configuration.md is what `npm run docs:config` generates', () => {
    expect(readFileSync(CONFIG_DOC, 'utf8')).toBe(renderConfigDoc());
  });
});

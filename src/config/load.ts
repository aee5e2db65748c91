/**
 * Reads the config file (YAML or JSON, `--config` or WA_CONND_CONFIG), lays the
 * environment over it, and validates the result. A bad key or value stops start-up with
 * a ConfigError naming the key, the value given and what is allowed.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Environment variables and the config key each sets. */
export const ENV_KEYS: Record<string, { path: string[]; parse: (v: string) => unknown }> = {
  NATS_URL: { path: ['nats', 'url'], parse: String },
  NATS_USER: { path: ['nats', 'user'], parse: String },
  NATS_PASS: { path: ['nats', 'pass'], parse: String },
  NATS_TOKEN: { path: ['nats', 'token'], parse: String },
  NATS_CREDS: { path: ['nats', 'credsFile'], parse: String },
  WA_CONND_DATA_DIR: { path: ['dataDir'], parse: String },
  WA_CONND_LOG_LEVEL: { path: ['log', 'level'], parse: String },
  WA_CONND_AUTH_STORE: { path: ['auth', 'store'], parse: String },
  WA_CONND_AUTH_KEY_FILE: { path: ['auth', 'encryptionKeyFile'], parse: String },
  WA_CONND_WA_URL: { path: ['whatsapp', 'url'], parse: String },
  WA_CONND_TRUST_ROOT: { path: ['whatsapp', 'trustRootPublicKey'], parse: String },
  WA_CONND_HTTP_HOST: { path: ['http', 'host'], parse: String },
  WA_CONND_HTTP_PORT: { path: ['http', 'port'], parse: (v) => (/^\d+$/.test(v) ? Number(v) : v) },
  WA_CONND_HTTP_TOKEN: { path: ['http', 'token'], parse: String },
  WA_CONND_INSPECT: {
    path: ['inspect'],
    parse: (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
  },
  WA_CONND_KEEPALIVE: { path: ['defaults', 'keepalive'], parse: String },
  /** Comma-separated account ids; replaces the file's list. */
  WA_CONND_ACCOUNTS: {
    path: ['accounts'],
    parse: (v) =>
      v
        .split(',')
        .map((id) => ({ id: id.trim() }))
        .filter((a) => a.id),
  },
};

export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.WA_CONND_CONFIG;
  const raw: Record<string, unknown> = file ? readConfigFile(file) : {};
  for (const [name, { path, parse }] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path, parse(value));
  }
  return validateConfig(raw);
}

export function validateConfig(raw: unknown): Config {
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((issue) => describe(issue, raw)));
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError([`config file ${file}: cannot be read (${(cause as Error).message})`]);
  }
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new ConfigError([
      `config file ${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'} (${(cause as Error).message})`,
    ]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new ConfigError([`config file ${file}: the top level must be a mapping of keys`]);
  return doc as Record<string, unknown>;
}

function describe(issue: z.core.$ZodIssue, raw: unknown): string {
  const key = issue.path.length ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? `${key}.` : '';
    return `${issue.keys.map((k) => `${where}${k}`).join(', ')}: unknown key${issue.keys.length > 1 ? 's' : ''}`;
  }
  const given = valueAt(raw, issue.path);
  const shown = given === undefined ? 'nothing' : JSON.stringify(given);
  return `${key}: got ${shown}; ${issue.message}`;
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const p of path.slice(0, -1)) {
    const next = node[p];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

/**
 * The CLI's message kinds: `send` with a media file (`--image photo.jpg --caption …`,
 * `--video`, `--audio [--voice-note]`, `--document`, `--sticker`) or a reply
 * (`--reply-to <id>`), and `react`, `edit`, `delete`. A file is put into `WA_MEDIA`
 * first (under `cli/<random>/<file name>`) and the send names the object.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import type { SendContentInput, WaClient } from '../client/index.js';
import * as cmd from './commands.js';
import { UsageError } from './errors.js';

export type SendFlags = {
  image?: string;
  video?: string;
  audio?: string;
  voiceNote?: boolean;
  document?: string;
  sticker?: string;
  caption?: string;
  fileName?: string;
  mimetype?: string;
  replyTo?: string;
};

const MEDIA_FLAGS = ['image', 'video', 'audio', 'document', 'sticker'] as const;

/** By extension, so WhatsApp shows the file as what it is; the gateway's kind default otherwise. */
const MIMETYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.mp4': 'video/mp4',
  '.3gp': 'video/3gpp',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg; codecs=opus',
  '.opus': 'audio/ogg; codecs=opus',
  '.m4a': 'audio/mp4',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.zip': 'application/zip',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export async function contentOf(wa: WaClient, text: string | undefined, o: SendFlags): Promise<SendContentInput> {
  const given = MEDIA_FLAGS.filter((k) => o[k] !== undefined);
  if (given.length > 1) throw new UsageError(`give one of --${MEDIA_FLAGS.join(', --')}; got ${given.join(', ')}`);
  const replyTo = o.replyTo !== undefined ? { replyTo: o.replyTo } : {};
  const kind = given[0];
  if (kind === undefined) {
    if (text === undefined)
      throw new UsageError('give a text, or a file with --image, --video, --audio, --document or --sticker');
    return { text, ...replyTo };
  }
  if (text !== undefined) throw new UsageError(`a ${kind} takes --caption, not a text argument`);
  const file = o[kind]!;
  const bytes = await readFile(file).catch((cause: unknown) => {
    throw new UsageError(`cannot read ${file}: ${cause instanceof Error ? cause.message : String(cause)}`);
  });
  const mimetype = o.mimetype ?? MIMETYPES[extname(file).toLowerCase()];
  const media = await wa.putMedia(`cli/${randomUUID()}/${basename(file)}`, bytes, mimetype ? { mimetype } : {});
  const caption = o.caption !== undefined ? { caption: o.caption } : {};
  const common = { media, ...(mimetype ? { mimetype } : {}), ...replyTo };
  switch (kind) {
    case 'image':
      return { kind, ...common, ...caption };
    case 'video':
      return { kind, ...common, ...caption };
    case 'audio':
      return { kind, ...common, ...(o.voiceNote ? { voiceNote: true } : {}) };
    case 'document':
      return { kind, ...common, ...caption, fileName: o.fileName ?? basename(file) };
    case 'sticker':
      return { kind, ...common };
    default: {
      const unreachable: never = kind;
      return unreachable;
    }
  }
}

type WithClient = (command: Command, body: (wa: WaClient) => Promise<void>) => Promise<never>;
type Common = { id?: string; json?: boolean };

/** `react`, `edit`, `delete`: a send of that kind naming an earlier message by its WhatsApp id. */
export function registerMessageCommands(program: Command, io: cmd.Io, withClient: WithClient): void {
  const common = (c: Command) =>
    c
      .option('--id <id>', 'idempotency key: the same id never sends twice (default: one made by the gateway)')
      .option('--json', 'print the reply as JSON');
  common(
    program
      .command('react <account> <to> <message-id> [emoji]')
      .description('react to a message (its WhatsApp id) with an emoji; without one, remove our reaction'),
  ).action((account: string, to: string, target: string, emoji: string | undefined, o: Common, c: Command) =>
    withClient(c, (wa) => cmd.send(wa, io, account, to, { kind: 'reaction', target, emoji: emoji ?? '' }, o)),
  );
  common(
    program.command('edit <account> <to> <message-id> <text>').description('edit one of our text messages'),
  ).action((account: string, to: string, target: string, text: string, o: Common, c: Command) =>
    withClient(c, (wa) => cmd.send(wa, io, account, to, { kind: 'edit', target, text }, o)),
  );
  common(
    program.command('delete <account> <to> <message-id>').description('delete one of our messages for everyone'),
  ).action((account: string, to: string, target: string, o: Common, c: Command) =>
    withClient(c, (wa) => cmd.send(wa, io, account, to, { kind: 'delete', target }, o)),
  );
}

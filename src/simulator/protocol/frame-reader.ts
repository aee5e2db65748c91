// Splits the client's byte stream into frames. The first bytes are the intro: optionally the
// routing-info prefix `ED 0 1 <len:3> <routingInfo>` (Baileys sends it once creds.routingInfo
// is set), then the 4-byte header `WA 06 <dict version>`. After that every frame is a 3-byte
// big-endian length followed by that many bytes (Utils/noise-handler.js encodeFrame).
import { NOISE_WA_HEADER } from '../wa.js';
import { SimulatorError } from '../errors.js';

const ROUTING_PREFIX = Buffer.from('ED', 'utf8');
const ROUTING_PREFIX_LENGTH = 7;
const FRAME_LENGTH_BYTES = 3;
/** Largest frame we accept: the 3-byte length allows 16 MiB; a text-only server needs far
 * less, and a cap keeps a garbage length from making us buffer forever. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

export interface Intro {
  header: Buffer;
  routingInfo?: Buffer;
}

export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);
  private intro: Intro | undefined;

  get introduction(): Intro | undefined {
    return this.intro;
  }

  /** Appends bytes and returns every complete frame; throws SimulatorError on bad input. */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (!this.intro && !this.readIntro()) return [];
    const frames: Buffer[] = [];
    while (this.buffer.length >= FRAME_LENGTH_BYTES) {
      const size = this.buffer.readUIntBE(0, FRAME_LENGTH_BYTES);
      if (size > MAX_FRAME_BYTES)
        throw new SimulatorError('protocol_error', `frame of ${size} bytes exceeds the limit`);
      if (this.buffer.length < FRAME_LENGTH_BYTES + size) break;
      frames.push(this.buffer.subarray(FRAME_LENGTH_BYTES, FRAME_LENGTH_BYTES + size));
      this.buffer = this.buffer.subarray(FRAME_LENGTH_BYTES + size);
    }
    return frames;
  }

  private readIntro(): boolean {
    let offset = 0;
    let routingInfo: Buffer | undefined;
    if (this.buffer.length >= 2 && this.buffer.subarray(0, 2).equals(ROUTING_PREFIX)) {
      if (this.buffer.length < ROUTING_PREFIX_LENGTH) return false;
      const length = this.buffer.readUIntBE(4, 3);
      if (length > MAX_FRAME_BYTES) throw new SimulatorError('protocol_error', 'routing info too long');
      if (this.buffer.length < ROUTING_PREFIX_LENGTH + length) return false;
      routingInfo = this.buffer.subarray(ROUTING_PREFIX_LENGTH, ROUTING_PREFIX_LENGTH + length);
      offset = ROUTING_PREFIX_LENGTH + length;
    }
    if (this.buffer.length < offset + NOISE_WA_HEADER.length) return false;
    const header = this.buffer.subarray(offset, offset + NOISE_WA_HEADER.length);
    // The first two bytes are "WA"; the last two are protocol and dictionary versions.
    if (header[0] !== NOISE_WA_HEADER[0] || header[1] !== NOISE_WA_HEADER[1]) {
      throw new SimulatorError('handshake_failed', 'connection does not start with the WA header');
    }
    this.intro = routingInfo
      ? { header: Buffer.from(header), routingInfo: Buffer.from(routingInfo) }
      : { header: Buffer.from(header) };
    this.buffer = this.buffer.subarray(offset + NOISE_WA_HEADER.length);
    return true;
  }
}

/** Frames one outgoing payload (server frames carry no intro). */
export function frame(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_LENGTH_BYTES + data.byteLength);
  out.writeUIntBE(data.byteLength, 0, FRAME_LENGTH_BYTES);
  out.set(data, FRAME_LENGTH_BYTES);
  return out;
}

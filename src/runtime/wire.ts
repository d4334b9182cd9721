/**
 * Frames on the control socket between TypeScript and native/hako-exec
 * (native/PROTOCOL.md): u32le length, then NUL-terminated fields; field 0 names the frame.
 */
export type Frame = readonly string[];

const MAX_FRAME = 4 << 20;

export function encodeFrame(fields: Frame): Buffer {
  const parts = fields.map((f) => {
    if (f.includes('\0')) throw new Error(`frame ${fields[0]}: field contains NUL`);
    return Buffer.from(f + '\0');
  });
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length);
  return Buffer.concat([head, body]);
}

export function encodeFrames(frames: readonly Frame[]): Buffer {
  return Buffer.concat(frames.map(encodeFrame));
}

/** Accumulates bytes from the socket and yields whole frames as they complete. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Frame[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32LE(0);
      if (len > MAX_FRAME) throw new Error(`control socket: frame of ${len} bytes exceeds the limit`);
      if (this.buf.length < 4 + len) break;
      const body = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      const text = body.toString('utf8');
      const fields = text.endsWith('\0') ? text.slice(0, -1).split('\0') : text.split('\0');
      out.push(fields);
    }
    return out;
  }

  get pending(): number {
    return this.buf.length;
  }
}

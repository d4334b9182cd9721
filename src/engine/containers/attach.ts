import { connect, type Socket } from 'node:net';
import { HakoError } from '../../common/errors.ts';

export const STREAM_STDIN = 0;
export const STREAM_STDOUT = 1;
export const STREAM_STDERR = 2;
export const FRAME_EXIT = 4;
export const FRAME_RESIZE = 5;
export const FRAME_SIGNAL = 6;

/**
 * Connects to a unix socket in DIR by its relative name: container directories can be
 * deeper than a socket address allows (108 bytes), their names never are. libuv's
 * connect(2) happens inside net.connect, so the working directory is only borrowed.
 */
export function connectIn(dir: string, name: string): Socket {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return connect(name);
  } finally {
    process.chdir(cwd);
  }
}

export function frame(type: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(8);
  head[0] = type;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

export interface AttachHandlers {
  onStdout(data: Buffer): void;
  onStderr(data: Buffer): void;
}

/** An attach client (native/MONITOR.md, "Attach socket"). */
export class AttachClient {
  readonly sock: Socket;
  /** the container's exit code; rejects if the monitor goes away without one */
  readonly exit: Promise<number>;

  constructor(sock: Socket, handlers: AttachHandlers) {
    this.sock = sock;
    let buf: Buffer = Buffer.alloc(0);
    let code: number | undefined;
    this.exit = new Promise((resolve, reject) => {
      sock.on('data', (chunk: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        while (buf.length >= 8) {
          const size = buf.readUInt32BE(4);
          if (buf.length < 8 + size) break;
          const type = buf[0];
          const body = buf.subarray(8, 8 + size);
          buf = buf.subarray(8 + size);
          if (type === STREAM_STDOUT) handlers.onStdout(body);
          else if (type === STREAM_STDERR) handlers.onStderr(body);
          else if (type === FRAME_EXIT) code = Number(body.toString());
        }
      });
      sock.on('error', (err) => reject(new HakoError('system', `attach: ${err.message}`)));
      sock.on('close', () => (code === undefined ? reject(new HakoError('system', 'the container monitor went away without an exit status')) : resolve(code)));
    });
    this.exit.catch(() => {});
  }

  static async open(dir: string, handlers: AttachHandlers): Promise<AttachClient> {
    const sock = connectIn(dir, 'attach.sock');
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', (err) => reject(new HakoError('invalid-state', `cannot attach: ${err.message}`)));
    });
    return new AttachClient(sock, handlers);
  }

  stdin(data: Buffer): void {
    if (data.length) this.sock.write(frame(STREAM_STDIN, data));
  }

  closeStdin(): void {
    this.sock.write(frame(STREAM_STDIN));
  }

  resize(rows: number, cols: number): void {
    this.sock.write(frame(FRAME_RESIZE, `${rows} ${cols}`));
  }

  signal(n: number): void {
    this.sock.write(frame(FRAME_SIGNAL, String(n)));
  }

  close(): void {
    this.sock.destroy();
  }
}

import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { HakoError, isErrno } from '../common/errors.ts';
import { ContentMismatchError, type BeforeCommit, type BlobInfo, type ContentStore, type PartialWriter } from '../image/content-store.ts';
import type { MetadataStore } from '../storage/metadata.ts';
import type { RegistryClient } from './client.ts';
import { isTransient } from './http.ts';

export interface DownloadOptions {
  /** takes the lease on the blob just before it becomes visible */
  claim?: BeforeCommit;
  onProgress?: (current: number, total: number) => void;
  /** told when the download waits for another process fetching the same blob */
  onWait?: () => void;
  /** attempts for one blob when the connection breaks (each resumes where it stopped) */
  attempts?: number;
  signal?: AbortSignal;
}

const LOCK_POLL_MS = 100;

/**
 * One blob from a registry into the content store, verified before anything sees it.
 * Two processes pulling the same blob fetch it once: the second waits on the blob's lock
 * and then finds it stored. A cut connection resumes with an HTTP range, in this process
 * (a few attempts) or a later one (the partial file stays); wrong bytes are thrown away.
 * follow() streams the bytes while they arrive, so a layer is unpacked as it downloads.
 */
export class BlobDownload {
  readonly digest: string;
  readonly size: number;
  readonly done: Promise<BlobInfo>;
  /** whether the bytes came over the network in this process (vs. found in the store) */
  fetched = false;
  /** bytes taken from an earlier, interrupted download */
  resumedFrom = 0;
  private written = 0;
  private file: string | undefined;
  private finished = false;
  private failure: unknown;
  private wake: (() => void)[] = [];
  private readonly store: ContentStore;

  constructor(client: RegistryClient, repo: string, desc: { digest: string; size: number }, store: ContentStore, meta: MetadataStore, opts: DownloadOptions = {}) {
    this.digest = desc.digest;
    this.size = desc.size;
    this.store = store;
    this.done = this.run(client, repo, meta, opts).then(
      (info) => {
        this.finished = true;
        this.notify();
        return info;
      },
      (err: unknown) => {
        this.failure = err;
        this.notify();
        throw err;
      },
    );
    this.done.catch(() => {}); // the owner awaits done; follow() reports the failure too
  }

  /** The blob's bytes from the start, as they arrive; ends when the blob is verified. */
  async *follow(): AsyncGenerator<Buffer> {
    let handle: FileHandle | undefined;
    let pos = 0;
    try {
      for (;;) {
        if (this.failure) throw this.failure;
        if (!handle && (this.file || this.finished)) handle = await this.openForReading();
        if (handle && pos < this.written) {
          // A fresh buffer each read, handed on as it is (no copy).
          const buf = Buffer.allocUnsafe(Math.min(1 << 20, this.written - pos));
          const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
          if (bytesRead > 0) {
            pos += bytesRead;
            yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
            continue;
          }
        }
        if (this.finished && pos >= this.written) return;
        await new Promise<void>((resolve) => this.wake.push(resolve));
      }
    } finally {
      await handle?.close();
    }
  }

  private async openForReading(): Promise<FileHandle | undefined> {
    // The partial file is renamed into the store when verified: either name holds the inode.
    for (const f of [this.file, this.store.path(this.digest)]) {
      if (!f) continue;
      try {
        return await open(f, 'r');
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
    return undefined;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = [];
    for (const f of w) f();
  }

  private async run(client: RegistryClient, repo: string, meta: MetadataStore, opts: DownloadOptions): Promise<BlobInfo> {
    const lock = `blob:${this.digest}`;
    let waited = false;
    while (!meta.tryLock(lock)) {
      if (!waited) opts.onWait?.();
      waited = true;
      opts.signal?.throwIfAborted();
      await sleep(LOCK_POLL_MS);
    }
    try {
      if (this.store.has(this.digest)) {
        opts.claim?.(this.digest);
        this.written = this.store.size(this.digest);
        return { digest: this.digest, size: this.written };
      }
      const writer = await this.store.partialWriter({ digest: this.digest, size: this.size }, opts.claim);
      this.file = writer.file;
      this.written = writer.size;
      this.resumedFrom = writer.resumedAt;
      this.notify();
      try {
        await this.fetch(client, repo, writer, opts);
        return await writer.commit();
      } catch (err) {
        // A wrong blob is gone (the writer aborted itself); a broken transfer is kept for a resume.
        if (err instanceof ContentMismatchError || writer.size === 0) await writer.abort();
        else await writer.suspend();
        throw err;
      }
    } finally {
      meta.unlock(lock);
    }
  }

  private async fetch(client: RegistryClient, repo: string, writer: PartialWriter, opts: DownloadOptions): Promise<void> {
    const attempts = opts.attempts ?? 5;
    for (let attempt = 1; writer.size < this.size; attempt++) {
      opts.signal?.throwIfAborted();
      try {
        const from = writer.size;
        const res = await client.getBlob(repo, this.digest, from);
        this.fetched = true;
        const stop = () => res.body.destroy(new HakoError('system', 'download cancelled'));
        opts.signal?.addEventListener('abort', stop, { once: true });
        // A registry that ignores the range sends everything: skip what we have.
        let skip = res.status === 200 ? from : 0;
        let batch: Buffer[] = [];
        let batched = 0;
        const flush = async () => {
          if (!batch.length) return;
          const b = batch;
          batch = [];
          batched = 0;
          await writer.writeMany(b);
          this.written = writer.size;
          this.notify();
          opts.onProgress?.(this.written, this.size);
        };
        try {
          for await (const chunk of res.body as AsyncIterable<Buffer>) {
            let c = chunk;
            if (skip > 0) {
              const n = Math.min(skip, c.length);
              skip -= n;
              c = c.subarray(n);
              if (!c.length) continue;
            }
            batch.push(c);
            batched += c.length;
            // A MiB at a time: fewer writes; a resume still keeps all that arrived (flushed below).
            if (batched >= 1 << 20) await flush();
          }
        } finally {
          await flush().catch(() => {});
        }
        opts.signal?.removeEventListener('abort', stop);
        if (writer.size < this.size) throw Object.assign(new Error('aborted'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
      } catch (err) {
        opts.signal?.throwIfAborted();
        if (err instanceof HakoError && !isTransient(err)) throw err;
        if (!isTransient(err) || attempt >= attempts) {
          throw new HakoError('system', `blob ${this.digest}: the download broke off at ${writer.size} of ${this.size} bytes (${(err as Error).message}); pull again to resume`, { cause: err });
        }
        await sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  }
}

// The bench's images, built locally: busybox (scripts/busybox-rootfs → tar) and "big",
// an OCI layout of 5 layers of incompressible pseudo-random data (~20 MiB gzip each).
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sh } from './procs.mjs';

/** DIR/rootfs from Debian's busybox-static and DIR/busybox.tar of it; returns both paths. */
export function busybox(repo, dir) {
  const rootfs = join(dir, 'rootfs');
  const tar = join(dir, 'busybox.tar');
  sh('bash', [join(repo, 'scripts', 'busybox-rootfs'), rootfs], { check: true });
  sh('tar', ['-C', rootfs, '-cf', tar, '.'], { check: true });
  return { rootfs, tar };
}

const FIXED_MTIME = 1704067200; // 2024-01-01T00:00:00Z
const FIXED_TIME = '2024-01-01T00:00:00Z';

function octal(buf, off, len, n) {
  buf.write(`${n.toString(8).padStart(len - 1, '0')}\0`, off, len, 'ascii');
}

/** One ustar header block. */
function tarHeader(name, size, type) {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, type === '5' ? 0o755 : 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, FIXED_MTIME);
  h.fill(0x20, 148, 156);
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

/** A tar of /bench/ and /bench/NAME holding DATA. */
function fileTar(name, data) {
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([tarHeader('bench/', 0, '5'), tarHeader(`bench/${name}`, data.length, '0'), data, Buffer.alloc(pad), Buffer.alloc(1024)]);
}

/** Incompressible, reproducible bytes: an AES-CTR keystream, a different key per SEED. */
function pseudoRandom(size, seed) {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16, 0));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

const sha256 = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function writeBlob(layout, mediaType, data) {
  const digest = sha256(data);
  const dir = join(layout, 'blobs', 'sha256');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, digest.slice(7)), data);
  return { mediaType, digest, size: data.length };
}

const GOARCH = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/**
 * The "big" image as an OCI layout at LAYOUT, tagged latest: LAYERS layers, each a tar
 * of one file of LAYER_BYTES pseudo-random bytes, gzip level 1 (it does not compress).
 * Returns { layout, compressedBytes, layers }.
 */
export function bigImage(layout, { layers = 5, layerBytes = 20 << 20 } = {}) {
  const diffIds = [];
  const descs = [];
  for (let i = 0; i < layers; i++) {
    const tar = fileTar(`layer${i + 1}.bin`, pseudoRandom(layerBytes, i + 1));
    diffIds.push(sha256(tar));
    descs.push(writeBlob(layout, 'application/vnd.oci.image.layer.v1.tar+gzip', gzipSync(tar, { level: 1 })));
  }
  const config = {
    created: FIXED_TIME,
    architecture: GOARCH[process.arch] ?? process.arch,
    os: 'linux',
    config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: FIXED_TIME, created_by: `hako bench: ${layerBytes} random bytes, layer ${i + 1}` })),
  };
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: writeBlob(layout, 'application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify(config))),
    layers: descs,
  };
  const top = writeBlob(layout, manifest.mediaType, Buffer.from(JSON.stringify(manifest)));
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
  }));
  return { layout, compressedBytes: descs.reduce((n, d) => n + d.size, 0), layers };
}

/** Pushes LAYOUT:latest to docker://REF (plain http on loopback). */
export function pushLayout(layout, ref) {
  const preserve = sh('skopeo', ['copy', '--help']).stdout.includes('--preserve-digests') ? ['--preserve-digests'] : [];
  sh('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', ...preserve, `oci:${layout}:latest`, `docker://${ref}`], { check: true, timeoutMs: 600_000 });
}

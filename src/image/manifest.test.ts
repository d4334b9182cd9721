import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { digestOf } from './digest.ts';
import {
  checkImageManifest,
  configPlatform,
  MAX_MANIFEST_BYTES,
  parseImageConfig,
  parseIndex,
  parseManifest,
  parseManifestOrIndex,
} from './manifest.ts';
import { MediaType } from './media-types.ts';

const d = (s: string) => digestOf(s);
const json = (v: unknown) => JSON.stringify(v);

// Shaped like docker.io/library/busybox as BuildKit pushes it: an OCI index with an
// attestation manifest for platform unknown/unknown.
const ociIndex = () => ({
  schemaVersion: 2,
  mediaType: MediaType.OciIndex,
  manifests: [
    { mediaType: MediaType.OciManifest, digest: d('amd64'), size: 610, platform: { architecture: 'amd64', os: 'linux' } },
    { mediaType: MediaType.OciManifest, digest: d('armv6'), size: 610, platform: { architecture: 'arm', os: 'linux', variant: 'v6' } },
    { mediaType: MediaType.OciManifest, digest: d('arm64'), size: 610, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
    {
      mediaType: MediaType.OciManifest,
      digest: d('att'),
      size: 840,
      annotations: { 'vnd.docker.reference.digest': d('amd64'), 'vnd.docker.reference.type': 'attestation-manifest' },
      platform: { architecture: 'unknown', os: 'unknown' },
    },
  ],
});

const dockerList = () => ({
  schemaVersion: 2,
  mediaType: MediaType.DockerManifestList,
  manifests: [
    { mediaType: MediaType.DockerManifest, digest: d('a'), size: 527, platform: { architecture: 'amd64', os: 'linux' } },
    { mediaType: MediaType.DockerManifest, digest: d('b'), size: 527, platform: { architecture: 'arm', os: 'linux', variant: 'v7' } },
  ],
});

const dockerManifest = () => ({
  schemaVersion: 2,
  mediaType: MediaType.DockerManifest,
  config: { mediaType: MediaType.DockerConfig, size: 1457, digest: d('config') },
  layers: [
    { mediaType: MediaType.DockerLayerGzip, size: 2220094, digest: d('l0') },
    { mediaType: MediaType.DockerLayerGzip, size: 32, digest: d('l1') },
  ],
});

const ociManifest = () => ({
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: { mediaType: MediaType.OciConfig, size: 1457, digest: d('config') },
  layers: [
    { mediaType: MediaType.OciLayerGzip, size: 2220094, digest: d('l0') },
    { mediaType: MediaType.OciLayerZstd, size: 32, digest: d('l1') },
    { mediaType: MediaType.OciLayer, size: 10240, digest: d('l2') },
  ],
  annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
});

// What `docker build` writes: nulls for unset fields, Docker-only fields beside them.
const dockerConfig = () => ({
  architecture: 'amd64',
  config: {
    Hostname: '',
    Domainname: '',
    User: '',
    AttachStdin: false,
    Tty: false,
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    Cmd: ['sh'],
    Image: d('parent'),
    Volumes: null,
    WorkingDir: '',
    Entrypoint: null,
    OnBuild: null,
    Labels: null,
  },
  container: '4c5b6e1c7e4f',
  created: '2023-07-18T23:19:33.655005962Z',
  docker_version: '20.10.23',
  history: [
    { created: '2023-07-18T23:19:33.538571854Z', created_by: '/bin/sh -c #(nop) ADD file:7e9002 in / ' },
    { created: '2023-07-18T23:19:33.655005962Z', created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
  ],
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [d('diff0'), d('diff1')] },
});

const ociConfig = () => ({
  created: '2024-05-01T10:00:00Z',
  author: 'hako tests',
  architecture: 'arm64',
  variant: 'v8',
  os: 'linux',
  config: {
    User: '1000:1000',
    ExposedPorts: { '80/tcp': {}, '53/udp': {}, '8080': {} },
    Env: ['PATH=/bin', 'LANG=C.UTF-8'],
    Entrypoint: ['/docker-entrypoint.sh'],
    Cmd: ['nginx', '-g', 'daemon off;'],
    Volumes: { '/var/cache/nginx': {} },
    WorkingDir: '/srv',
    Labels: { maintainer: 'someone' },
    StopSignal: 'SIGQUIT',
    ArgsEscaped: true,
    Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], Interval: 30e9, Timeout: 3e9, Retries: 3 },
    OnBuild: ['RUN echo hi'],
    Shell: ['/bin/bash', '-c'],
  },
  rootfs: { type: 'layers', diff_ids: [d('diff0'), d('diff1'), d('diff2')] },
  history: [{ created_by: 'ADD rootfs.tar /', comment: 'base' }],
});

/** Mutates a fresh example, parses it, expects the exact field and reason. */
function bad<T>(make: () => T, mutate: (v: any) => void, parse: (s: string) => unknown, message: RegExp | string) {
  const v = make();
  mutate(v);
  assert.throws(
    () => parse(json(v)),
    (e: any) => e.code === 'invalid-config' && (typeof message === 'string' ? e.message === message : message.test(e.message)),
  );
}

describe('image index / manifest list', () => {
  test('an OCI index and a Docker manifest list parse', () => {
    assert.equal(parseIndex(json(ociIndex())).manifests.length, 4);
    assert.equal(parseIndex(Buffer.from(json(dockerList())), MediaType.DockerManifestList).manifests[1]!.platform!.variant, 'v7');
    const { mediaType: _, ...noType } = ociIndex();
    assert.equal(parseIndex(json(noType)).manifests.length, 4); // OCI makes mediaType optional
  });

  const p = (s: string) => parseIndex(s);
  test('malformed fields are named', () => {
    bad(ociIndex, (v) => delete v.manifests, p, 'index.manifests: is missing');
    bad(ociIndex, (v) => (v.manifests = {}), p, 'index.manifests: must be a list, got object');
    bad(ociIndex, (v) => (v.manifests[2].digest = 'sha256:xyz'), p, /^index\.manifests\[2\]\.digest: invalid digest "sha256:xyz"/);
    bad(ociIndex, (v) => delete v.manifests[1].platform.os, p, 'index.manifests[1].platform.os: is missing');
    bad(ociIndex, (v) => (v.manifests[0].platform.variant = 7), p, 'index.manifests[0].platform.variant: must be a string, got number');
    bad(dockerList, (v) => delete v.manifests[0].platform, p, /^index\.manifests\[0\]\.platform: is missing \(a Docker manifest list/);
    bad(ociIndex, (v) => (v.mediaType = MediaType.OciManifest), p, /^index\.mediaType: "application\/vnd\.oci\.image\.manifest\.v1\+json" is not an image index/);
    bad(ociIndex, (v) => (v.schemaVersion = 3), p, 'index.schemaVersion: must be 2, got 3');
    bad(ociIndex, (v) => (v.manifests[3].annotations = { a: 1 }), p, 'index.manifests[3].annotations["a"]: must be a string, got number');
  });
});

describe('image manifest', () => {
  test('Docker schema 2 and OCI manifests parse', () => {
    const m = parseManifest(json(dockerManifest()));
    assert.equal(m.layers[0]!.size, 2220094);
    checkImageManifest(m);
    const o = parseManifest(json(ociManifest()), `${MediaType.OciManifest}; charset=utf-8`);
    assert.equal(o.layers.length, 3);
    checkImageManifest(o);
  });

  const p = (s: string) => parseManifest(s);
  test('malformed fields are named', () => {
    bad(dockerManifest, (v) => (v.layers[1].digest = 'sha256:xyz'), p, /^manifest\.layers\[1\]\.digest: invalid digest "sha256:xyz" \(sha256 needs 64 hex digits, got 3\)$/);
    bad(ociManifest, (v) => (v.layers[2].digest = 'md5:abc'), p, /^manifest\.layers\[2\]\.digest: invalid digest "md5:abc" \(unsupported algorithm "md5"/);
    bad(ociManifest, (v) => (v.layers[0].size = -1), p, 'manifest.layers[0].size: must be a non-negative integer, got -1');
    bad(ociManifest, (v) => (v.layers[0].size = '12'), p, 'manifest.layers[0].size: must be a non-negative integer, got "12"');
    bad(ociManifest, (v) => (v.layers[0].size = 1.5), p, /size: must be a non-negative integer, got 1\.5/);
    bad(ociManifest, (v) => delete v.layers[0].size, p, 'manifest.layers[0].size: is missing');
    bad(ociManifest, (v) => delete v.layers[1].mediaType, p, 'manifest.layers[1].mediaType: is missing');
    bad(ociManifest, (v) => (v.layers[1].mediaType = 'not a type'), p, 'manifest.layers[1].mediaType: invalid media type "not a type"');
    bad(ociManifest, (v) => delete v.config, p, 'manifest.config: is missing');
    bad(ociManifest, (v) => (v.config.digest = undefined), p, 'manifest.config.digest: is missing');
    bad(ociManifest, (v) => (v.layers = null), p, 'manifest.layers: must be a list, got null');
    bad(ociManifest, (v) => (v.layers[0].urls = ['file:///etc/passwd']), p, 'manifest.layers[0].urls[0]: must be an http or https URL, got "file:///etc/passwd"');
    bad(dockerManifest, (v) => (v.schemaVersion = 1), p, /^manifest: Docker image manifest schema 1 is not supported/);
    bad(dockerManifest, (v) => delete v.schemaVersion, p, 'manifest.schemaVersion: is missing');
    bad(ociIndex, () => {}, p, /^manifest: this is an image index \(application\/vnd\.oci\.image\.index\.v1\+json\), not a manifest$/);
  });

  test('the document media type must match the one it was served with', () => {
    assert.throws(() => parseManifest(json(dockerManifest()), MediaType.OciManifest), /manifest\.mediaType: ".*docker.*" does not match .*"application\/vnd\.oci\.image\.manifest\.v1\+json"/);
  });

  test('embedded data is checked against digest and size', () => {
    const data = Buffer.from('{}');
    const good = ociManifest() as any;
    good.config = { mediaType: MediaType.OciEmpty, digest: digestOf(data), size: 2, data: data.toString('base64') };
    assert.equal(parseManifest(json(good)).config.data, 'e30=');
    bad(() => good, (v) => (v.config.size = 3), (s) => parseManifest(s), 'manifest.config.data: holds 2 bytes but size says 3');
    bad(() => good, (v) => ((v.config.size = 2), (v.config.data = 'W10=')), (s) => parseManifest(s), /^manifest\.config\.data: does not match the digest/);
    bad(() => good, (v) => (v.config.data = '!!'), (s) => parseManifest(s), 'manifest.config.data: must be base64');
  });

  test('size limit, bad JSON and a non-object are refused', () => {
    const huge = json({ ...ociManifest(), annotations: { pad: 'x'.repeat(MAX_MANIFEST_BYTES) } });
    const msg = (re: RegExp) => (e: any) => e.code === 'invalid-config' && re.test(e.message);
    assert.throws(() => parseManifest(huge), msg(/^manifest: \d+ bytes is more than the 4194304 allowed$/));
    assert.throws(() => parseManifest('{"schemaVersion":'), msg(/^manifest: invalid JSON/));
    assert.throws(() => parseManifest('[]'), msg(/^manifest: must be a JSON object, got a list$/));
  });

  test('artifacts and encrypted layers are not container images', () => {
    const helm = ociManifest() as any;
    helm.config.mediaType = 'application/vnd.cncf.helm.config.v1+json';
    assert.throws(() => checkImageManifest(parseManifest(json(helm))), (e: any) => e.code === 'unsupported' && /not a container image/.test(e.message));
    const enc = ociManifest() as any;
    enc.layers[1].mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip+encrypted';
    assert.throws(() => checkImageManifest(parseManifest(json(enc))), /manifest\.layers\[1\]\.mediaType: .*encrypted layers are not supported/);
  });

  test('parseManifestOrIndex tells them apart by media type or by shape', () => {
    assert.equal(parseManifestOrIndex(json(ociIndex())).kind, 'index');
    assert.equal(parseManifestOrIndex(json(dockerManifest())).kind, 'manifest');
    const { mediaType: _i, ...idx } = ociIndex();
    const { mediaType: _m, ...man } = ociManifest();
    assert.equal(parseManifestOrIndex(json(idx)).kind, 'index');
    assert.equal(parseManifestOrIndex(json(man)).kind, 'manifest');
    assert.equal(parseManifestOrIndex(json(idx), MediaType.OciIndex).kind, 'index');
  });
});

describe('image config', () => {
  test('a Docker config with nulls and an OCI config with every field parse', () => {
    const c = parseImageConfig(json(dockerConfig()), parseManifest(json(dockerManifest())));
    assert.deepEqual(c.config?.Cmd, ['sh']);
    assert.equal(c.config?.Entrypoint, null);
    const o = parseImageConfig(json(ociConfig()), parseManifest(json(ociManifest())));
    assert.equal(o.config?.Healthcheck?.Retries, 3);
    assert.deepEqual(configPlatform(o), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  });

  test('an image without layers (no diff_ids, as Docker omits them) has []', () => {
    const c = dockerConfig() as any;
    delete c.rootfs.diff_ids;
    assert.deepEqual(parseImageConfig(json(c)).rootfs.diff_ids, []);
  });

  const p = (s: string) => parseImageConfig(s);
  test('malformed fields are named', () => {
    bad(dockerConfig, (v) => delete v.architecture, p, 'config.architecture: is missing');
    bad(dockerConfig, (v) => (v.os = ''), p, 'config.os: must not be empty');
    bad(dockerConfig, (v) => delete v.rootfs, p, 'config.rootfs: is missing');
    bad(dockerConfig, (v) => (v.rootfs.type = 'tar'), p, 'config.rootfs.type: must be "layers", got "tar"');
    bad(dockerConfig, (v) => (v.rootfs.diff_ids[1] = 'sha256:xyz'), p, /^config\.rootfs\.diff_ids\[1\]: invalid digest "sha256:xyz"/);
    bad(dockerConfig, (v) => (v.config.Env = 'PATH=/bin'), p, 'config.config.Env: must be a list of strings, got string');
    bad(dockerConfig, (v) => (v.config.Cmd = ['sh', 1]), p, 'config.config.Cmd[1]: must be a string, got number');
    bad(ociConfig, (v) => (v.config.ExposedPorts = { 'http': {} }), p, 'config.config.ExposedPorts: invalid key "http" (use port[/tcp|udp|sctp])');
    bad(ociConfig, (v) => (v.config.Volumes = ['/data']), p, 'config.config.Volumes: must be an object, got a list');
    bad(ociConfig, (v) => (v.config.Labels = { a: true }), p, 'config.config.Labels["a"]: must be a string, got boolean');
    bad(ociConfig, (v) => (v.config.Healthcheck.Interval = -1), p, 'config.config.Healthcheck.Interval: must be a non-negative integer, got -1');
    bad(ociConfig, (v) => (v.config.ArgsEscaped = 'yes'), p, 'config.config.ArgsEscaped: must be true or false, got string');
    bad(ociConfig, (v) => (v.config.User = 0), p, 'config.config.User: must be a string, got number');
    bad(dockerConfig, (v) => (v.history[1].empty_layer = 'true'), p, 'config.history[1].empty_layer: must be true or false, got string');
    bad(dockerConfig, (v) => (v.created = 'yesterday'), p, 'config.created: invalid time "yesterday"');
    bad(dockerConfig, (v) => (v.config = 'sh'), p, 'config.config: must be an object, got string');
  });

  test('the manifest and config must agree on the number of layers', () => {
    assert.throws(
      () => parseImageConfig(json(dockerConfig()), parseManifest(json(ociManifest()))),
      (e: any) => e.code === 'invalid-config' && e.message === 'config.rootfs.diff_ids: lists 2 layers but the manifest has 3',
    );
  });
});

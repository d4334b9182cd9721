/**
 * Media types of the OCI image spec and of Docker's image manifest v2 schema 2. The two
 * formats describe the same things with different names; the predicates below let the
 * rest of hako ask "is this an index / a manifest / a layer" without caring which.
 */
export const MediaType = {
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  // Deprecated in OCI 1.1 but still found in registries (e.g. Windows base layers).
  OciLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  OciLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  OciLayout: 'application/vnd.oci.layout.header.v1+json',

  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  DockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  /** schema 1: recognised only to refuse it with a useful message */
  DockerManifestV1: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export type Compression = 'none' | 'gzip' | 'zstd';

const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.OciIndex, MediaType.DockerManifestList]);
const MANIFEST_TYPES: ReadonlySet<string> = new Set([MediaType.OciManifest, MediaType.DockerManifest]);
const CONFIG_TYPES: ReadonlySet<string> = new Set([MediaType.OciConfig, MediaType.DockerConfig]);
const SCHEMA1_TYPES: ReadonlySet<string> = new Set([MediaType.DockerManifestV1, MediaType.DockerManifestV1Signed]);

const LAYERS: ReadonlyMap<string, { compression: Compression; foreign: boolean }> = new Map([
  [MediaType.OciLayer, { compression: 'none', foreign: false }],
  [MediaType.OciLayerGzip, { compression: 'gzip', foreign: false }],
  [MediaType.OciLayerZstd, { compression: 'zstd', foreign: false }],
  [MediaType.OciLayerNondistributable, { compression: 'none', foreign: true }],
  [MediaType.OciLayerNondistributableGzip, { compression: 'gzip', foreign: true }],
  [MediaType.OciLayerNondistributableZstd, { compression: 'zstd', foreign: true }],
  [MediaType.DockerLayer, { compression: 'none', foreign: false }],
  [MediaType.DockerLayerGzip, { compression: 'gzip', foreign: false }],
  [MediaType.DockerLayerZstd, { compression: 'zstd', foreign: false }],
  [MediaType.DockerForeignLayer, { compression: 'gzip', foreign: true }],
]);

/**
 * The media types a registry client offers in Accept when it resolves a tag: indexes
 * first, so a multi-platform image comes back as its index and hako chooses the platform.
 */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.OciIndex,
  MediaType.DockerManifestList,
  MediaType.OciManifest,
  MediaType.DockerManifest,
];

/** Strips parameters (`; charset=utf-8`) and case, as an HTTP Content-Type may carry them. */
export function baseMediaType(mt: string): string {
  return mt.split(';')[0]!.trim().toLowerCase();
}

export const isIndexType = (mt: string | undefined): boolean => mt !== undefined && INDEX_TYPES.has(baseMediaType(mt));
export const isManifestType = (mt: string | undefined): boolean => mt !== undefined && MANIFEST_TYPES.has(baseMediaType(mt));
export const isConfigType = (mt: string | undefined): boolean => mt !== undefined && CONFIG_TYPES.has(baseMediaType(mt));
export const isSchema1Type = (mt: string | undefined): boolean => mt !== undefined && SCHEMA1_TYPES.has(baseMediaType(mt));
export const isLayerType = (mt: string | undefined): boolean => mt !== undefined && LAYERS.has(baseMediaType(mt));

/**
 * Foreign (Docker) and non-distributable (OCI) layers are not pushed to registries: they
 * are fetched from the descriptor's `urls`, and a push skips them.
 */
export const isForeignLayer = (mt: string | undefined): boolean => mt !== undefined && LAYERS.get(baseMediaType(mt))?.foreign === true;

/** How a layer of this media type is compressed, or undefined if it is not a layer type. */
export function layerCompression(mt: string | undefined): Compression | undefined {
  return mt === undefined ? undefined : LAYERS.get(baseMediaType(mt))?.compression;
}

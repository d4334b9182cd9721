import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  baseMediaType,
  isConfigType,
  isForeignLayer,
  isIndexType,
  isLayerType,
  isManifestType,
  isSchema1Type,
  layerCompression,
  MediaType,
} from './media-types.ts';

describe('media types', () => {
  test('indexes, manifests and configs of both formats', () => {
    assert.ok(isIndexType(MediaType.OciIndex) && isIndexType(MediaType.DockerManifestList));
    assert.ok(isManifestType(MediaType.OciManifest) && isManifestType(MediaType.DockerManifest));
    assert.ok(isConfigType(MediaType.OciConfig) && isConfigType(MediaType.DockerConfig));
    assert.ok(!isManifestType(MediaType.OciIndex) && !isIndexType(undefined));
    assert.ok(isSchema1Type(MediaType.DockerManifestV1Signed));
  });

  test('Content-Type parameters and case do not matter', () => {
    assert.equal(baseMediaType('Application/VND.oci.image.index.v1+json; charset=utf-8'), MediaType.OciIndex);
    assert.ok(isManifestType(`${MediaType.DockerManifest}; charset=utf-8`));
  });

  test('layers: compression and foreign/non-distributable', () => {
    assert.equal(layerCompression(MediaType.OciLayer), 'none');
    assert.equal(layerCompression(MediaType.OciLayerGzip), 'gzip');
    assert.equal(layerCompression(MediaType.OciLayerZstd), 'zstd');
    assert.equal(layerCompression(MediaType.DockerLayerGzip), 'gzip');
    assert.equal(layerCompression(MediaType.DockerForeignLayer), 'gzip');
    assert.equal(layerCompression(MediaType.OciConfig), undefined);
    assert.ok(isForeignLayer(MediaType.DockerForeignLayer));
    assert.ok(isForeignLayer(MediaType.OciLayerNondistributableGzip));
    assert.ok(!isForeignLayer(MediaType.OciLayerGzip));
    assert.ok(isLayerType(MediaType.OciLayerNondistributableZstd));
    assert.ok(!isLayerType('application/vnd.oci.image.layer.v1.tar+gzip+encrypted'));
  });
});

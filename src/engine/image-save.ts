import { writeDockerArchive, writeOciLayoutDir, writeOciLayoutTar, type SavedImage } from '../image/archive/write-archive.ts';
import { HakoError } from '../common/errors.ts';
import type { ImageService } from './image-service.ts';
import { familiarName } from './reference.ts';

/** docker: `docker save`'s tar; oci: an OCI layout as a tar; oci-dir: the layout as a directory (podman's name). */
export type SaveFormat = 'docker' | 'oci' | 'oci-dir';

/** `hako save` to a stream: the images REFS as one archive. A name given is kept in the archive; an id is saved without names. */
export async function saveImages(svc: ImageService, refs: string[], format: 'docker' | 'oci', out: NodeJS.WritableStream): Promise<void> {
  const images = collect(svc, refs, format);
  if (format === 'docker') await writeDockerArchive(images, svc.content, out);
  else await writeOciLayoutTar(images, svc.content, out);
}

/** `hako save --format oci-dir -o DIR`: an OCI layout directory, for skopeo, umoci and friends. */
export async function saveImagesToDir(svc: ImageService, refs: string[], dir: string): Promise<void> {
  await writeOciLayoutDir(collect(svc, refs, 'oci'), svc.content, dir);
}

function collect(svc: ImageService, refs: string[], format: SaveFormat): SavedImage[] {
  if (!['docker', 'oci', 'oci-dir'].includes(format)) throw new HakoError('invalid-argument', `unknown format "${String(format)}" (docker, oci or oci-dir)`);
  const byId = new Map<string, SavedImage>();
  for (const ref of refs) {
    const record = svc.resolve(ref);
    const name = svc.nameOf(ref, record);
    let saved = byId.get(record.id);
    if (!saved) {
      const d = svc.detail(record);
      saved = { manifestDigest: record.manifestDigest, manifest: d.manifest, config: d.config, names: [] };
      byId.set(record.id, saved);
    }
    // docker load reads familiar names in manifest.json; containerd full ones in index.json
    if (name) {
      const shown = format === 'docker' ? familiarName(name) : name;
      if (!saved.names.includes(shown)) saved.names.push(shown);
    }
  }
  return [...byId.values()];
}

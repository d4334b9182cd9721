import type { SpawnSyncReturns } from 'node:child_process';
import { ImageService } from '../../src/engine/image-service.ts';
import { runtimeProcessFor, type RunOverrides } from '../../src/image/runtime-config.ts';
import { baseSpec, Bundle } from './bundle.ts';

/**
 * Runs a container from an image in the store at root, the way `hako run` will: a
 * snapshot of its layers, mounted; a bundle whose process comes from the image config.
 */
export async function runImage(root: string, ref: string, overrides: RunOverrides = {}): Promise<SpawnSyncReturns<string>> {
  const svc = new ImageService(root);
  const key = `c${process.pid}-${Date.now()}`;
  const b = new Bundle();
  try {
    const rec = svc.resolve(ref);
    await svc.snapshots.createContainerLayer(key, svc.meta.layersOf(rec.id).map((l) => l.chainId));
    const merged = await svc.snapshots.mount(key);
    const spec = baseSpec();
    spec.process = runtimeProcessFor(svc.detail(rec).config.config ?? {}, overrides, merged);
    spec.root = { path: merged };
    b.write(spec);
    return b.run();
  } finally {
    b.cleanup();
    await svc.snapshots.removeContainerLayer(key).catch(() => {});
    svc.close();
  }
}

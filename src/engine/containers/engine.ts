import { join } from 'node:path';
import { HakoError } from '../../common/errors.ts';
import { StateStore } from '../../runtime/state-store.ts';
import type { MetadataStore } from '../../storage/metadata.ts';
import { ImageService } from '../image-service.ts';
import type { StorePaths } from '../store-paths.ts';
import { fromRow, containerFiles, type Container } from './record.ts';
import { containerState, type DockerState } from './state.ts';

/**
 * The container use cases' shared parts: the image service (stores), the OCI runtime's
 * state root for this data root, and lookups. Each use case is a function in its own
 * file beside this one.
 */
export class ContainerEngine {
  readonly images: ImageService;
  readonly runtime: StateStore;
  readonly paths: StorePaths;

  constructor(root: string) {
    this.images = new ImageService(root);
    this.paths = this.images.paths;
    this.runtime = new StateStore(this.paths.runtime);
  }

  get meta(): MetadataStore {
    return this.images.meta;
  }

  close(): void {
    this.images.close();
  }

  /** By full id, name, or unique id prefix (Docker's "No such container" otherwise). */
  resolve(ref: string): Container {
    if (!ref) throw new HakoError('invalid-argument', 'container name or id cannot be empty');
    return fromRow(this.meta.resolveContainer(ref));
  }

  get(id: string): Container | undefined {
    const row = this.meta.getContainer(id);
    return row && fromRow(row);
  }

  list(): Container[] {
    return this.meta.listContainers().map(fromRow);
  }

  dir(id: string): string {
    return join(this.paths.containers, id);
  }

  files(id: string): ReturnType<typeof containerFiles> {
    return containerFiles(this.dir(id), id);
  }

  state(c: Container): DockerState {
    return containerState(c, this.dir(c.id), this.runtime);
  }
}

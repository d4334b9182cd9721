import { HakoError } from '../../common/errors.ts';
import { ImageService } from '../../engine/image-service.ts';
import { dataRoot } from '../../engine/store-paths.ts';
import { err, out } from '../output.ts';

/** What every image command gets: the service of the data root. */
export interface ImageGlobals {
  svc: ImageService;
}

export type ImageCommand = (args: string[], g: ImageGlobals) => Promise<number>;

const COMMANDS: Record<string, () => Promise<{ default: ImageCommand }>> = {
  images: () => import('./images.ts'),
  inspect: () => import('./inspect.ts'),
  tag: () => import('./tag.ts'),
  rmi: () => import('./rmi.ts'),
  history: () => import('./history.ts'),
  import: () => import('./import.ts'),
  save: () => import('./save.ts'),
  load: () => import('./load.ts'),
  prune: () => import('./prune.ts'),
  info: () => import('./info.ts'),
  pull: () => import('./pull.ts'),
  push: () => import('./push.ts'),
  login: () => import('./login.ts'),
  logout: () => import('./logout.ts'),
};

/** `hako image SUBCOMMAND` → the top-level command of the same meaning. */
const IMAGE_SUBCOMMANDS: Record<string, string> = {
  ls: 'images',
  list: 'images',
  inspect: 'inspect',
  tag: 'tag',
  rm: 'rmi',
  remove: 'rmi',
  history: 'history',
  import: 'import',
  save: 'save',
  load: 'load',
  prune: 'prune',
  pull: 'pull',
  push: 'push',
};

const IMAGE_USAGE = `Usage: hako image COMMAND

Manage images

Commands:
  history     Show the history of an image
  import      Import the contents from a tarball to create a filesystem image
  inspect     Display detailed information on one or more images
  load        Load an image from a tar archive or STDIN
  ls          List images
  prune       Remove unused images
  pull        Download an image from a registry
  push        Upload an image to a registry
  rm          Remove one or more images
  save        Save one or more images to a tar archive (streamed to STDOUT by default)
  tag         Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
`;

/** Runs an image command (CMD is a top-level name, or "image" with a subcommand in ARGS). */
export async function main(cmd: string, args: string[], dataRootFlag: string | undefined): Promise<number> {
  let name = cmd;
  if (cmd === 'image') {
    const sub = args[0];
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      out(IMAGE_USAGE);
      return sub === undefined ? 1 : 0;
    }
    const mapped = IMAGE_SUBCOMMANDS[sub];
    if (!mapped) {
      err(`hako: 'image ${sub}' is not a hako command.\nSee 'hako image --help'\n`);
      return 1;
    }
    name = mapped;
    args = args.slice(1);
  }
  const load = COMMANDS[name];
  if (!load) {
    err(`hako: '${cmd}' is not a hako command.\nSee 'hako --help'\n`);
    return 1;
  }
  let svc: ImageService | undefined;
  try {
    const mod = await load();
    svc = new ImageService(dataRoot(dataRootFlag));
    return await mod.default(args, { svc });
  } catch (e) {
    err(`hako: ${errorText(e)}\n`);
    return 1;
  } finally {
    svc?.close();
  }
}

export function errorText(e: unknown): string {
  return e instanceof HakoError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
}

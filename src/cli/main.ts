import { enableCompileCache } from 'node:module';
import { err, out } from './output.ts';

// Every CLI call is a fresh process: cache V8's compiled code across them.
enableCompileCache();

const USAGE = `Usage: hako COMMAND

Global options:
  --data-root DIR   where images live (default /var/lib/hako, or $HAKO_DATA_ROOT)

Commands:
  run       create and start a container (Docker's flags)
  create    create a container
  start, stop, restart, kill, rm, ps, logs, exec, attach, wait, top, stats,
  cp, inspect, rename, pause, unpause, update, diff, commit, export
            Docker's container commands, same flags and output
  container manage containers (ls, prune, and the commands above)
  volume    manage volumes (create, ls, inspect, rm, prune)
  network   manage networks (create, ls, inspect, rm, connect, disconnect, prune)
  port      list a container's published ports
  runtime   the OCI runtime (runc's command-line contract); see "hako runtime --help"
  images    list images
  image     manage images (ls, inspect, tag, rm, history, import, save, load, prune, pull, push)
  pull      download an image from a registry (--platform, -q)
  push      upload an image to a registry
  login     log in to a registry (credentials in ~/.docker/config.json, as Docker)
  logout    log out from a registry
  tag       create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
  rmi       remove one or more images
  history   show the history of an image
  import    import a tarball as a one-layer image
  save      save images to a tar archive (docker or OCI format)
  load      load images from a tar archive, stdin or an OCI layout directory
  info      show the store, its snapshotter and the cgroup layout
  version   print the version
`;

async function main(argv: string[]): Promise<number> {
  // Global flags before the command: only --data-root so far.
  let dataRoot: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const m = /^--data-root(?:=(.*))?$/.exec(argv[i]!);
    if (!m) break;
    dataRoot = m[1] ?? argv[++i];
    if (dataRoot === undefined) {
      err('hako: flag --data-root needs a value\n');
      return 1;
    }
  }
  const [cmd, ...rest] = argv.slice(i);
  switch (cmd) {
    case 'runtime':
      return (await import('./runtime/index.ts')).main(rest, 'hako');
    case 'images':
    case 'image':
    case 'tag':
    case 'rmi':
    case 'history':
    case 'import':
    case 'save':
    case 'load':
    case 'info':
    case 'pull':
    case 'push':
    case 'login':
    case 'logout':
      return (await import('./image/index.ts')).main(cmd, rest, dataRoot);
    case 'run':
    case 'create':
    case 'start':
    case 'stop':
    case 'restart':
    case 'kill':
    case 'rm':
    case 'ps':
    case 'logs':
    case 'exec':
    case 'attach':
    case 'wait':
    case 'top':
    case 'stats':
    case 'cp':
    case 'inspect':
    case 'rename':
    case 'pause':
    case 'unpause':
    case 'update':
    case 'diff':
    case 'commit':
    case 'export':
    case 'container':
    case 'volume':
    case '__relaunch':
    case '__healthcheck':
    case '__netdown':
    case 'network':
    case 'port':
      return (await import('./container/index.ts')).main(cmd, rest, dataRoot);
    case 'version':
    case '--version':
    case '-v':
      out('hako version 0.1.0\n');
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return cmd === undefined ? 1 : 0;
    default:
      err(`hako: '${cmd}' is not a hako command.\nSee 'hako --help'\n`);
      return 1;
  }
}

// A one-shot CLI: nothing left in the event loop (a socket to a dead executor, a
// timer) may keep it alive once the answer is known.
process.exit(await main(process.argv.slice(2)));

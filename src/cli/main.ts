import { enableCompileCache } from 'node:module';
import { err, out } from './output.ts';

// Every CLI call is a fresh process: cache V8's compiled code across them.
enableCompileCache();

const USAGE = `Usage: hako COMMAND

Commands:
  runtime   the OCI runtime (runc's command-line contract); see "hako runtime --help"
  version   print the version
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'runtime':
      return (await import('./runtime/index.ts')).main(rest, 'hako');
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

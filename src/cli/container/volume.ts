import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { dockerTable, formatRows } from '../docker-args.ts';
import type { ContainerEngine } from '../../engine/containers/engine.ts';
import { Volumes } from '../../engine/volumes.ts';
import { err, out } from '../output.ts';
import { errorText } from '../image/index.ts';
import { inspectEach, type ContainerGlobals } from './index.ts';

const USAGE = `Usage: hako volume COMMAND

Manage volumes

Commands:
  create      Create a volume
  inspect     Display detailed information on one or more volumes
  ls          List volumes
  prune       Remove unused local volumes
  rm          Remove one or more volumes
`;

/** Docker's volume inspect object. */
export function volumeView(eng: ContainerEngine, name: string): Record<string, unknown> {
  const v = new Volumes(eng.meta, eng.paths.volumes).inspect(name);
  return {
    CreatedAt: v.created,
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: v.options,
    Scope: 'local',
  };
}

function keyValues(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    if (eq === 0) throw new HakoError('invalid-argument', `invalid ${what} '${kv}'`);
    if (eq < 0) out[kv] = '';
    else out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** `volume create|ls|inspect|rm|prune` */
export default async function volume(args: string[], g: ContainerGlobals): Promise<number> {
  const [sub, ...rest] = args;
  const volumes = new Volumes(g.eng.meta, g.eng.paths.volumes);
  switch (sub) {
    case 'create': {
      const { values: o, positionals } = parseVerb(
        'volume create',
        rest,
        { driver: { type: 'string', short: 'd' }, label: { type: 'string', multiple: true }, opt: { type: 'string', short: 'o', multiple: true }, name: { type: 'string' } },
        { min: 0, max: 1, usage: 'hako volume create [OPTIONS] [VOLUME]' },
      );
      const name = positionals[0] ?? o.name;
      const { volume: v } = volumes.create(name, { labels: keyValues(o.label, 'label'), options: keyValues(o.opt, 'option'), ...(o.driver ? { driver: o.driver } : {}) });
      out(`${v.name}\n`);
      return 0;
    }
    case 'ls':
    case 'list': {
      const { values: o } = parseVerb(
        'volume ls',
        rest,
        { quiet: { type: 'boolean', short: 'q' }, format: { type: 'string' }, filter: { type: 'string', short: 'f', multiple: true } },
        { min: 0, max: 0, usage: 'hako volume ls [OPTIONS]' },
      );
      let list = volumes.list();
      for (const f of o.filter ?? []) {
        const eq = f.indexOf('=');
        const [k, v] = [f.slice(0, eq), f.slice(eq + 1)];
        if (k === 'dangling') list = list.filter((x) => (g.eng.meta.volumeUsers(x.name).length === 0) === (v === 'true' || v === '1'));
        else if (k === 'name') list = list.filter((x) => x.name.includes(v));
        else if (k === 'driver') list = list.filter((x) => x.driver === v);
        else if (k === 'label') {
          const i = v.indexOf('=');
          list = list.filter((x) => (i < 0 ? v in x.labels : x.labels[v.slice(0, i)] === v.slice(i + 1)));
        } else throw new HakoError('invalid-argument', `invalid filter '${k}'`);
      }
      if (o.quiet) {
        out(list.map((v) => `${v.name}\n`).join(''));
        return 0;
      }
      const rows = list.map((v) => ({ Driver: v.driver, Name: v.name, Mountpoint: v.mountpoint, Scope: 'local', Labels: Object.entries(v.labels).map(([k, x]) => `${k}=${x}`).join(',') }));
      out(formatRows(o.format, rows, () => dockerTable([['DRIVER', 'VOLUME NAME'], ...rows.map((r) => [r.Driver, r.Name])])));
      return 0;
    }
    case 'inspect': {
      const { values: o, positionals } = parseVerb('volume inspect', rest, { format: { type: 'string', short: 'f' } }, { min: 1, max: Infinity, usage: 'hako volume inspect [OPTIONS] VOLUME [VOLUME...]' });
      return inspectEach(positionals, (n) => volumeView(g.eng, n), o.format);
    }
    case 'rm':
    case 'remove': {
      const { values: o, positionals } = parseVerb('volume rm', rest, { force: { type: 'boolean', short: 'f' } }, { min: 1, max: Infinity, usage: 'hako volume rm [OPTIONS] VOLUME [VOLUME...]' });
      let status = 0;
      for (const n of positionals) {
        try {
          volumes.remove(n, !!o.force);
          out(`${n}\n`);
        } catch (e) {
          err(`hako: ${errorText(e)}\n`);
          status = 1;
        }
      }
      return status;
    }
    case 'prune': {
      const { values: o } = parseVerb(
        'volume prune',
        rest,
        { all: { type: 'boolean', short: 'a' }, force: { type: 'boolean', short: 'f' }, filter: { type: 'string', multiple: true } },
        { min: 0, max: 0, usage: 'hako volume prune [OPTIONS]' },
      );
      const { removed } = volumes.prune(!!o.all);
      out(removed.length ? `Deleted Volumes:\n${removed.map((n) => `${n}\n`).join('')}\n` : '');
      out(`Total reclaimed space: 0B\n`);
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      out(USAGE);
      return sub === undefined ? 1 : 0;
    default:
      err(`hako: 'volume ${sub}' is not a hako command.\nSee 'hako volume --help'\n`);
      return 1;
  }
}

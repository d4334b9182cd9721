import { formatPorts } from '../../network/ports.ts';
import { networksOf, ownsNetwork, portsOf } from '../../engine/containers/network.ts';
import { parseVerb } from '../args.ts';
import { HakoError } from '../../common/errors.ts';
import { createdSince, dockerTable, ellipsis, formatRows, humanDuration } from '../docker-args.ts';
import type { ContainerEngine } from '../../engine/containers/engine.ts';
import type { Container } from '../../engine/containers/record.ts';
import type { DockerState } from '../../engine/containers/state.ts';
import { readHealth } from '../../engine/containers/health-state.ts';
import { out } from '../output.ts';
import type { ContainerGlobals } from './index.ts';

const FILTERS = new Set(['id', 'name', 'label', 'exited', 'status', 'ancestor', 'before', 'since', 'volume', 'health']);
const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

/** `ps` / `container ls`: Docker's columns, -a, -q, -n, -l, --no-trunc, --format, -f. */
export default async function ps(args: string[], g: ContainerGlobals): Promise<number> {
  const { values: o } = parseVerb(
    'ps',
    args,
    {
      all: { type: 'boolean', short: 'a' },
      quiet: { type: 'boolean', short: 'q' },
      'no-trunc': { type: 'boolean' },
      format: { type: 'string' },
      filter: { type: 'string', short: 'f', multiple: true },
      last: { type: 'string', short: 'n' },
      latest: { type: 'boolean', short: 'l' },
      size: { type: 'boolean', short: 's' },
    },
    { min: 0, max: 0, usage: 'hako ps [OPTIONS]' },
  );
  const filters = (o.filter ?? []).map((f) => {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new HakoError('invalid-argument', `bad format of filter (expected name=value)`);
    const key = f.slice(0, eq);
    if (!FILTERS.has(key)) throw new HakoError('invalid-argument', `invalid filter '${key}'`);
    const value = f.slice(eq + 1);
    if (key === 'status' && !STATUSES.has(value)) throw new HakoError('invalid-argument', `invalid filter 'status=${value}'`);
    return { key, value };
  });
  const last = o.latest ? 1 : o.last !== undefined ? Number(o.last) : -1;
  const all = !!o.all || last > 0 || filters.some((f) => f.key === 'status' || f.key === 'exited');
  let rows = g.eng.list().map((c) => ({ c, st: g.eng.state(c) }));
  // Docker: several values of one filter are alternatives (status=exited + status=running:
  // either), except labels, which must all match; different filters must all hold.
  const byKey = new Map<string, string[]>();
  for (const f of filters) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f.value]);
  const holds = (c: Container, st: DockerState) =>
    [...byKey].every(([key, values]) => (key === 'label' ? values.every((v) => matches(g.eng, c, st, key, v)) : values.some((v) => matches(g.eng, c, st, key, v))));
  rows = rows.filter(({ c, st }) => (all || st.Running) && holds(c, st));
  if (last > 0) rows = rows.slice(0, last);
  const trunc = !o['no-trunc'];
  if (o.quiet) {
    out(rows.map(({ c }) => `${trunc ? c.id.slice(0, 12) : c.id}\n`).join(''));
    return 0;
  }
  const now = Date.now();
  const view = rows.map(({ c, st }) => {
    const cmd = [c.settings.Path, ...c.settings.Args].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ');
    return {
      ID: trunc ? c.id.slice(0, 12) : c.id,
      Image: c.settings.Config.Image,
      Command: trunc ? `"${ellipsis(cmd, 20)}"` : `"${cmd}"`,
      CreatedAt: goLocal(c.created),
      RunningFor: createdSince(c.created, now),
      Ports: st.Running ? formatPorts(portsOf(g.eng, c), c.settings.Config.ExposedPorts) : '',
      State: st.Status,
      Status: statusText(g.eng, c, st, now),
      Size: '0B',
      Names: c.name,
      Labels: Object.entries(c.settings.Config.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
      Mounts: c.settings.Mounts.map((m) => m.Name ?? m.Source).join(','),
      Networks: ownsNetwork(c.settings.HostConfig.NetworkMode) ? Object.keys(networksOf(c)).join(',') : c.settings.HostConfig.NetworkMode,
    };
  });
  out(
    formatRows(o.format, view, () =>
      dockerTable([
        ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
        ...view.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names]),
      ]),
    ),
  );
  return 0;
}

function goLocal(iso: string): string {
  return `${iso.slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

/** Docker's Status column: "Up 5 seconds (healthy)", "Exited (3) 2 minutes ago", "Created". */
export function statusText(eng: ContainerEngine, c: Container, st: DockerState, now = Date.now()): string {
  const since = (t: string) => humanDuration(Math.max(0, now - Date.parse(t)));
  switch (st.Status) {
    case 'created':
      return 'Created';
    case 'restarting':
      return `Restarting (${st.ExitCode}) ${since(st.FinishedAt)} ago`;
    case 'exited':
      return `Exited (${st.ExitCode}) ${since(st.FinishedAt)} ago`;
    case 'dead':
      return 'Dead';
    case 'removing':
      return 'Removal In Progress';
    default: {
      let s = `Up ${since(st.StartedAt)}`;
      if (st.Paused) s += ' (Paused)';
      const h = healthOf(eng, c);
      if (h) s += h === 'starting' ? ' (health: starting)' : ` (${h})`;
      return s;
    }
  }
}

function healthOf(eng: ContainerEngine, c: Container): string | undefined {
  const test = c.settings.Config.Healthcheck?.Test;
  if (!test?.length || test[0] === 'NONE') return undefined;
  return readHealth(eng.files(c.id).health).Status;
}

function matches(eng: ContainerEngine, c: Container, st: DockerState, key: string, value: string): boolean {
  switch (key) {
    case 'id':
      return c.id.startsWith(value);
    case 'name':
      return new RegExp(value).test(c.name);
    case 'label': {
      const eq = value.indexOf('=');
      const labels = c.settings.Config.Labels ?? {};
      return eq < 0 ? value in labels : labels[value.slice(0, eq)] === value.slice(eq + 1);
    }
    case 'exited':
      return st.Status === 'exited' && st.ExitCode === Number(value);
    case 'status':
      return st.Status === value;
    case 'ancestor': {
      if (c.settings.Config.Image === value || c.imageId === value || c.imageId.startsWith(`sha256:${value}`)) return true;
      try {
        return eng.images.resolve(value).id === c.imageId;
      } catch {
        return false;
      }
    }
    case 'volume':
      return c.settings.Mounts.some((m) => m.Name === value || m.Destination === value || m.Source === value);
    case 'health':
      return healthOf(eng, c) === value || (value === 'none' && healthOf(eng, c) === undefined);
    case 'before':
    case 'since': {
      const other = eng.resolve(value);
      return key === 'before' ? c.created < other.created : c.created > other.created;
    }
  }
  return true;
}

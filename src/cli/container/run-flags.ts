import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { posix, resolve } from 'node:path';
import { HakoError } from '../../common/errors.ts';
import type { ContainerConfig, CreateRequest, HealthConfig, HostConfig, MountConfig, RestartPolicy, Ulimit } from '../../engine/container-config.ts';
import { parseStopSignal } from '../../image/container-settings.ts';
import { CAPABILITIES } from '../../runtime/capabilities.ts';
import {
  checkArgCount,
  flagUsages,
  fromHumanSize,
  goQuote,
  parseFlags,
  parseGoAtoi,
  parseGoBool,
  parseGoDuration,
  ramInBytes,
  type FlagSpec,
  type FlagValues,
} from '../docker-flags.ts';

/**
 * `run` / `create` flags as the docker CLI reads them (cli/command/container/opts.go),
 * with the checks the Docker daemon makes on the result at create time: hako has no
 * daemon, so a bad value is refused here with the daemon's wording instead.
 * The request holds only what the user set, plus Docker's derived attach fields.
 */

export type PortBindings = Record<string, Array<{ HostIp: string; HostPort: string }>>;

export interface RunFlags {
  request: CreateRequest;
  /** after the image */
  command: string[];
  /** -d (run only) */
  detach: boolean;
  /** the streams to attach, as Docker derives them (none with -d) */
  attach: Array<'stdin' | 'stdout' | 'stderr'>;
  sigProxy: boolean;
  pull: 'missing' | 'always' | 'never';
  platform?: string;
  cidfile?: string;
  /** --detach-keys as given (validated) */
  detachKeys?: string;
  /** -q: no pull progress */
  quiet: boolean;
  /** -p, parsed as Docker's HostConfig.PortBindings */
  portBindings: PortBindings;
  /** -P */
  publishAll: boolean;
  help: boolean;
}

export interface RunFlagsContext {
  /** for `-e NAME` and `--env-file` lines without a value (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** for ./relative bind sources (default process.cwd()) */
  cwd?: string;
}

export const RUN_USAGE = { run: 'hako run [OPTIONS] IMAGE [COMMAND] [ARG...]', create: 'hako create [OPTIONS] IMAGE [COMMAND] [ARG...]' } as const;

function bad(message: string): HakoError {
  return new HakoError('invalid-argument', message);
}

// ---------------------------------------------------------------------------------------
// The flag table: Docker's names, shorthands and help, with the checks Docker's typed
// flag values make while parsing (their errors read `invalid argument "V" for …`).

const RUN_ONLY = new Set(['detach', 'sig-proxy', 'detach-keys']);

/** Docker flags hako parses (so the arguments split as Docker splits them) but does not implement. */
const UNSUPPORTED = new Set([
  'use-api-socket', 'device-cgroup-rule', 'device', 'gpus', 'userns', 'cgroupns', 'ip', 'ip6', 'link', 'link-local-ip', 'mac-address',
  'volume-driver', 'storage-opt', 'volumes-from', 'blkio-weight', 'blkio-weight-device', 'cpu-count', 'cpu-percent',
  'cpu-rt-period', 'cpu-rt-runtime', 'device-read-bps', 'device-read-iops', 'device-write-bps', 'device-write-iops', 'io-maxbandwidth',
  'io-maxiops', 'memory-reservation', 'memory-swappiness', 'oom-kill-disable', 'cgroup-parent', 'ipc', 'isolation', 'pid', 'uts', 'runtime', 'annotation',
]);

function flagTable(ctx: Required<RunFlagsContext>) {
  return [
    // run's own
    { name: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
    { name: 'sig-proxy', type: 'bool', help: 'Proxy received signals to the process', defaultText: 'true' },
    { name: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container' },
    // run's and create's
    { name: 'name', type: 'string', help: 'Assign a name to the container' },
    { name: 'pull', type: 'string', help: 'Pull image before running ("always", "missing", "never")', defaultText: 'missing' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the pull output' },
    { name: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable' },
    { name: 'use-api-socket', type: 'bool', help: 'Bind mount Docker API socket and required auth' },
    { name: 'disable-content-trust', type: 'bool', hidden: true },
    // containerOptions
    { name: 'attach', short: 'a', type: 'list', help: 'Attach to STDIN, STDOUT or STDERR', check: validateAttach },
    { name: 'device-cgroup-rule', type: 'list', help: 'Add a rule to the cgroup allowed devices list' },
    { name: 'device', type: 'list', help: 'Add a host device to the container' },
    { name: 'gpus', type: 'string', valueName: 'gpu-request', help: "GPU devices to add to the container ('all' to pass all GPUs)" },
    { name: 'env', short: 'e', type: 'list', help: 'Set environment variables', check: (v: string) => validateEnv(v, ctx.env) },
    { name: 'env-file', type: 'list', help: 'Read in a file of environment variables' },
    { name: 'entrypoint', type: 'string', help: 'Overwrite the default ENTRYPOINT of the image' },
    { name: 'group-add', type: 'list', help: 'Add additional groups to join' },
    { name: 'hostname', short: 'h', type: 'string', help: 'Container host name' },
    { name: 'domainname', type: 'string', help: 'Container NIS domain name' },
    { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
    { name: 'label', short: 'l', type: 'list', help: 'Set meta data on a container', check: validateLabel },
    { name: 'label-file', type: 'list', help: 'Read in a line delimited file of labels' },
    { name: 'read-only', type: 'bool', help: "Mount the container's root filesystem as read only" },
    { name: 'restart', type: 'string', help: 'Restart policy to apply when a container exits', defaultText: 'no' },
    { name: 'stop-signal', type: 'string', help: 'Signal to stop the container' },
    { name: 'stop-timeout', type: 'int', help: 'Timeout (in seconds) to stop a container' },
    { name: 'sysctl', type: 'list', valueName: 'map', help: 'Sysctl options', check: validateSysctl },
    { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
    { name: 'ulimit', type: 'list', valueName: 'ulimit', help: 'Ulimit options', check: (v: string) => void parseUlimit(v) },
    { name: 'user', short: 'u', type: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
    { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
    { name: 'rm', type: 'bool', help: 'Automatically remove the container and its associated anonymous volumes when it exits' },
    { name: 'cap-add', type: 'list', help: 'Add Linux capabilities' },
    { name: 'cap-drop', type: 'list', help: 'Drop Linux capabilities' },
    { name: 'privileged', type: 'bool', help: 'Give extended privileges to this container' },
    { name: 'security-opt', type: 'list', help: 'Security Options' },
    { name: 'userns', type: 'string', help: 'User namespace to use' },
    { name: 'cgroupns', type: 'string', help: 'Cgroup namespace to use (host|private)' },
    { name: 'add-host', type: 'list', help: 'Add a custom host-to-IP mapping (host:ip)', check: validateExtraHost },
    { name: 'dns', type: 'list', help: 'Set custom DNS servers', check: validateIPAddress },
    { name: 'dns-option', type: 'list', aliases: ['dns-opt'], help: 'Set DNS options' },
    { name: 'dns-search', type: 'list', help: 'Set custom DNS search domains', check: validateDNSSearch },
    { name: 'expose', type: 'list', help: 'Expose a port or a range of ports' },
    { name: 'ip', type: 'string', help: 'IPv4 address (e.g., 172.30.100.104)' },
    { name: 'ip6', type: 'string', help: 'IPv6 address (e.g., 2001:db8::33)' },
    { name: 'link', type: 'list', help: 'Add link to another container' },
    { name: 'link-local-ip', type: 'list', help: 'Container IPv4/IPv6 link-local addresses' },
    { name: 'mac-address', type: 'string', help: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
    { name: 'publish', short: 'p', type: 'list', help: "Publish a container's port(s) to the host" },
    { name: 'publish-all', short: 'P', type: 'bool', help: 'Publish all exposed ports to random ports' },
    { name: 'network', type: 'list', aliases: ['net'], valueName: 'network', help: 'Connect a container to a network', check: validateNetwork },
    { name: 'network-alias', type: 'list', aliases: ['net-alias'], help: 'Add network-scoped alias for the container' },
    { name: 'log-driver', type: 'string', help: 'Logging driver for the container' },
    { name: 'volume-driver', type: 'string', help: 'Optional volume driver for the container' },
    { name: 'log-opt', type: 'list', help: 'Log driver options' },
    { name: 'storage-opt', type: 'list', help: 'Storage driver options for the container' },
    { name: 'tmpfs', type: 'list', help: 'Mount a tmpfs directory' },
    { name: 'volumes-from', type: 'list', help: 'Mount volumes from the specified container(s)' },
    { name: 'volume', short: 'v', type: 'list', help: 'Bind mount a volume' },
    { name: 'mount', type: 'list', valueName: 'mount', help: 'Attach a filesystem mount to the container', check: (v: string) => void parseMountFlag(v, ctx.cwd) },
    { name: 'health-cmd', type: 'string', help: 'Command to run to check health' },
    { name: 'health-interval', type: 'string', valueName: 'duration', help: 'Time between running the check (ms|s|m|h) (default 0s)', check: durationCheck },
    { name: 'health-retries', type: 'int', help: 'Consecutive failures needed to report unhealthy' },
    { name: 'health-timeout', type: 'string', valueName: 'duration', help: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)', check: durationCheck },
    { name: 'health-start-period', type: 'string', valueName: 'duration', help: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)', check: durationCheck },
    { name: 'health-start-interval', type: 'string', valueName: 'duration', help: 'Time between running the check during the start period (ms|s|m|h) (default 0s)', check: durationCheck },
    { name: 'no-healthcheck', type: 'bool', help: 'Disable any container-specified HEALTHCHECK' },
    { name: 'blkio-weight', type: 'int', valueName: 'uint16', help: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
    { name: 'blkio-weight-device', type: 'list', help: 'Block IO weight (relative device weight)' },
    { name: 'cidfile', type: 'string', help: 'Write the container ID to the file' },
    { name: 'cpuset-cpus', type: 'string', help: 'CPUs in which to allow execution (0-3, 0,1)' },
    { name: 'cpuset-mems', type: 'string', help: 'MEMs in which to allow execution (0-3, 0,1)' },
    { name: 'cpu-count', type: 'int', hidden: true },
    { name: 'cpu-percent', type: 'int', hidden: true },
    { name: 'cpu-period', type: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) period' },
    { name: 'cpu-quota', type: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
    { name: 'cpu-rt-period', type: 'int', help: 'Limit CPU real-time period in microseconds' },
    { name: 'cpu-rt-runtime', type: 'int', help: 'Limit CPU real-time runtime in microseconds' },
    { name: 'cpu-shares', short: 'c', type: 'int', help: 'CPU shares (relative weight)' },
    { name: 'cpus', type: 'string', valueName: 'decimal', help: 'Number of CPUs', check: (v: string) => void parseCPUs(v) },
    { name: 'device-read-bps', type: 'list', help: 'Limit read rate (bytes per second) from a device' },
    { name: 'device-read-iops', type: 'list', help: 'Limit read rate (IO per second) from a device' },
    { name: 'device-write-bps', type: 'list', help: 'Limit write rate (bytes per second) to a device' },
    { name: 'device-write-iops', type: 'list', help: 'Limit write rate (IO per second) to a device' },
    { name: 'io-maxbandwidth', type: 'string', hidden: true },
    { name: 'io-maxiops', type: 'int', hidden: true },
    { name: 'memory', short: 'm', type: 'string', valueName: 'bytes', help: 'Memory limit', check: (v: string) => void ramInBytes(v) },
    { name: 'memory-reservation', type: 'string', valueName: 'bytes', help: 'Memory soft limit' },
    { name: 'memory-swap', type: 'string', valueName: 'bytes', help: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", check: (v: string) => void parseMemorySwap(v) },
    { name: 'memory-swappiness', type: 'int', help: 'Tune container memory swappiness (0 to 100)', defaultText: '-1' },
    { name: 'oom-kill-disable', type: 'bool', help: 'Disable OOM Killer' },
    { name: 'oom-score-adj', type: 'int', help: "Tune host's OOM preferences (-1000 to 1000)" },
    { name: 'pids-limit', type: 'int', help: 'Tune container pids limit (set -1 for unlimited)' },
    { name: 'cgroup-parent', type: 'string', help: 'Optional parent cgroup for the container' },
    { name: 'ipc', type: 'string', help: 'IPC mode to use' },
    { name: 'isolation', type: 'string', help: 'Container isolation technology' },
    { name: 'pid', type: 'string', help: 'PID namespace to use' },
    { name: 'shm-size', type: 'string', valueName: 'bytes', help: 'Size of /dev/shm', check: (v: string) => void ramInBytes(v) },
    { name: 'uts', type: 'string', help: 'UTS namespace to use' },
    { name: 'runtime', type: 'string', help: 'Runtime to use for this container' },
    { name: 'init', type: 'bool', help: 'Run an init inside the container that forwards signals and reaps processes' },
    { name: 'annotation', type: 'list', valueName: 'map', help: 'Add an annotation to the container (passed through to the OCI runtime)' },
    // deprecated in Docker and ignored there too
    { name: 'kernel-memory', type: 'string', hidden: true },
  ] as const satisfies readonly FlagSpec[];
}

type RunTable = readonly ReturnType<typeof flagTable>[number][];
type RunValues = FlagValues<RunTable>;

function tableFor(verb: 'run' | 'create', ctx: Required<RunFlagsContext>): RunTable {
  const all = flagTable(ctx);
  return verb === 'run' ? all : all.filter((f) => !RUN_ONLY.has(f.name));
}

/** `hako run --help` / `hako create --help`. */
export function runHelp(verb: 'run' | 'create'): string {
  const what = verb === 'run' ? 'Create and run a new container from an image' : 'Create a new container';
  const table = tableFor(verb, { env: {}, cwd: '/' }).map((f): FlagSpec => {
    if (UNSUPPORTED.has(f.name)) return { ...f, hidden: true };
    return verb === 'create' && f.name === 'pull' ? { ...f, help: f.help.replace('running', 'creating') } : f;
  });
  return `Usage:  ${RUN_USAGE[verb]}\n\n${what}\n\nOptions:\n${flagUsages(table)}`;
}

// ---------------------------------------------------------------------------------------
// parseRunFlags

export function parseRunFlags(args: string[], verb: 'run' | 'create', context: RunFlagsContext = {}): RunFlags {
  const ctx = { env: context.env ?? process.env, cwd: context.cwd ?? process.cwd() };
  const { values: v, args: positionals, help } = parseFlags(args, tableFor(verb, ctx), { interspersed: false });
  const flags: RunFlags = {
    request: { image: positionals[0] ?? '', config: {}, hostConfig: {} },
    command: positionals.slice(1),
    detach: v.detach === true,
    attach: [],
    sigProxy: v['sig-proxy'] ?? true,
    pull: 'missing',
    quiet: v.quiet === true,
    portBindings: {},
    publishAll: v['publish-all'] === true,
    help,
  };
  if (help) return flags;
  checkArgCount(positionals, `hako ${verb}`, RUN_USAGE[verb], { min: 1 });
  rejectUnsupported(v);

  const pull = v.pull ?? 'missing';
  if (pull !== 'always' && pull !== 'missing' && pull !== 'never' && pull !== '') {
    throw bad(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  }
  flags.pull = pull || 'missing';
  const platform = v.platform ?? ctx.env['DOCKER_DEFAULT_PLATFORM'];
  if (platform) flags.platform = platform;
  if (v.cidfile) flags.cidfile = v.cidfile;
  if (v.name !== undefined) flags.request.name = v.name;

  const config: Partial<ContainerConfig> = {};
  const host: Partial<HostConfig> = {};
  flags.request.config = config;
  flags.request.hostConfig = host;

  // The CLI's part (opts.go parse), in its order.
  const attach = new Set(v.attach ?? []);
  config.AttachStdin = attach.has('stdin') || v.interactive === true;
  config.AttachStdout = attach.size === 0 || attach.has('stdout');
  config.AttachStderr = attach.size === 0 || attach.has('stderr');
  config.Tty = v.tty === true;
  config.OpenStdin = v.interactive === true;

  const { binds, anonymous } = splitVolumes(v.volume ?? [], ctx.cwd);
  if (binds.length > 0) host.Binds = binds;
  if (anonymous.length > 0) config.Volumes = Object.fromEntries(anonymous.map((d) => [d, {}]));
  if (v.tmpfs !== undefined) host.Tmpfs = parseTmpfs(v.tmpfs);

  if (flags.command.length > 0) config.Cmd = flags.command;
  if (v.entrypoint !== undefined) config.Entrypoint = [v.entrypoint];

  const published = parsePortSpecs(convertToStandardNotation(v.publish ?? []));
  flags.portBindings = published.bindings;
  const exposed = new Set(published.exposed);
  for (const e of v.expose ?? []) for (const p of parseExposeRange(e)) exposed.add(p);
  if (exposed.size > 0) config.ExposedPorts = Object.fromEntries([...exposed].sort().map((p) => [p, {}]));

  const env = [...readKVFiles(v['env-file'] ?? [], '--env-file', ctx.env), ...(v.env ?? [])];
  if (env.length > 0) config.Env = env;
  const labels = [...readKVFiles(v['label-file'] ?? [], '--label-file'), ...(v.label ?? [])];
  if (labels.length > 0) config.Labels = Object.fromEntries(labels.map((l) => cut(l, '=')));

  const restart = v.restart === undefined ? undefined : parseRestartPolicy(v.restart);
  if (restart) host.RestartPolicy = restart;
  const logConfig = parseLogging(v['log-driver'], v['log-opt']);
  if (logConfig) host.LogConfig = logConfig;
  if (v['security-opt'] !== undefined) host.SecurityOpt = parseSecurityOpts(v['security-opt']);
  const health = parseHealth(v);
  if (health) config.Healthcheck = health;

  if (v.hostname !== undefined) config.Hostname = v.hostname;
  if (v.domainname !== undefined) config.Domainname = v.domainname;
  if (v.user !== undefined) config.User = v.user;
  if (v.workdir !== undefined) config.WorkingDir = v.workdir;
  if (v['stop-signal'] !== undefined) config.StopSignal = v['stop-signal'];
  if (v['stop-timeout'] !== undefined) config.StopTimeout = v['stop-timeout'];

  if (v.memory !== undefined) host.Memory = ramInBytes(v.memory);
  if (v['memory-swap'] !== undefined) host.MemorySwap = parseMemorySwap(v['memory-swap']);
  if (v.cpus !== undefined) host.NanoCpus = parseCPUs(v.cpus);
  if (v['cpu-shares'] !== undefined) host.CpuShares = v['cpu-shares'];
  if (v['cpu-quota'] !== undefined) host.CpuQuota = v['cpu-quota'];
  if (v['cpu-period'] !== undefined) host.CpuPeriod = v['cpu-period'];
  if (v['cpuset-cpus'] !== undefined) host.CpusetCpus = v['cpuset-cpus'];
  if (v['cpuset-mems'] !== undefined) host.CpusetMems = v['cpuset-mems'];
  if (v['pids-limit'] !== undefined) host.PidsLimit = v['pids-limit'];
  if (v.ulimit !== undefined) host.Ulimits = ulimitList(v.ulimit);
  if (v['shm-size'] !== undefined) host.ShmSize = ramInBytes(v['shm-size']);
  if (v['oom-score-adj'] !== undefined) host.OomScoreAdj = v['oom-score-adj'];
  if (v.rm !== undefined) host.AutoRemove = v.rm;
  if (v.privileged !== undefined) host.Privileged = v.privileged;
  if (v['read-only'] !== undefined) host.ReadonlyRootfs = v['read-only'];
  if (v['cap-add'] !== undefined) host.CapAdd = v['cap-add'];
  if (v['cap-drop'] !== undefined) host.CapDrop = v['cap-drop'];
  if (v['group-add'] !== undefined) host.GroupAdd = v['group-add'];
  if (v['add-host'] !== undefined) host.ExtraHosts = v['add-host'];
  if (v.dns !== undefined) host.Dns = v.dns;
  if (v['dns-search'] !== undefined) host.DnsSearch = v['dns-search'];
  if (v['dns-option'] !== undefined) host.DnsOptions = v['dns-option'];
  if (v.sysctl !== undefined) host.Sysctls = Object.fromEntries(v.sysctl.map((s) => cut(s, '=')));
  if (v.mount !== undefined) host.Mounts = v.mount.map((m) => parseMountFlag(m, ctx.cwd));

  if (host.AutoRemove && restart && restart.Name !== '' && restart.Name !== 'no') {
    throw bad('conflicting options: cannot specify both --restart and --rm');
  }
  if (v.init !== undefined) host.Init = v.init;
  config.StdinOnce = config.OpenStdin && config.AttachStdin;
  if (v.network !== undefined) host.NetworkMode = networkMode(v.network);
  if (v['network-alias'] !== undefined) flags.request.networkAliases = v['network-alias'];
  if (Object.keys(flags.portBindings).length) host.PortBindings = flags.portBindings;
  if (flags.publishAll) host.PublishAllPorts = true;

  // runContainer's part
  if (flags.detach) {
    if (attach.size > 0) throw bad('conflicting options: cannot specify both --attach and --detach');
    config.AttachStdin = config.AttachStdout = config.AttachStderr = config.StdinOnce = false;
  }
  if (v['detach-keys'] !== undefined) {
    validateDetachKeys(v['detach-keys']);
    flags.detachKeys = v['detach-keys'];
  }
  if (config.AttachStdin) flags.attach.push('stdin');
  if (config.AttachStdout) flags.attach.push('stdout');
  if (config.AttachStderr) flags.attach.push('stderr');

  // The daemon's checks at create.
  if (config.WorkingDir) config.WorkingDir = checkWorkingDir(config.WorkingDir);
  if (config.StopSignal) checkSignal(config.StopSignal);
  if (health) checkHealthMinimums(health);
  for (const m of host.Mounts ?? []) validateMount(m, true);
  checkPortBindings(flags.portBindings);
  if (restart) validateRestartPolicy(restart);
  checkCapabilities(host.CapAdd, 'CapAdd');
  checkCapabilities(host.CapDrop, 'CapDrop');
  checkResources(host);
  for (const dest of Object.keys(host.Tmpfs ?? {})) checkTmpfsDestination(dest);
  for (const b of host.Binds ?? []) parseVolumeSpec(b, ctx.cwd);
  for (const d of anonymous) parseVolumeSpec(d, ctx.cwd);
  return flags;
}

function rejectUnsupported(v: RunValues): void {
  for (const [name, value] of Object.entries(v)) {
    if (!UNSUPPORTED.has(name) || value === false || value === '') continue;
    if (name === 'memory-swappiness' && value === -1) continue;
    throw new HakoError('unsupported', `flag --${name} is not supported by hako`);
  }
}

function cut(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + sep.length)];
}

// ---------------------------------------------------------------------------------------
// Per-flag checks (opts package)

function validateAttach(v: string): string {
  const s = v.toLowerCase();
  if (s === 'stdin' || s === 'stdout' || s === 'stderr') return s;
  throw new Error('valid streams are STDIN, STDOUT and STDERR');
}

function validateEnv(v: string, env: NodeJS.ProcessEnv): string {
  const [k] = cut(v, '=');
  if (k === '') throw new Error(`invalid environment variable: ${v}`);
  if (v.includes('=')) return v;
  const value = env[k];
  return value === undefined ? v : `${k}=${value}`;
}

function validateLabel(v: string): string {
  const key = cut(v, '=')[0].replace(/^[ \t]+/, '');
  if (key === '') throw new Error(`invalid label '${v}': empty name`);
  if (/[ \t]/.test(key)) throw new Error(`label '${key}' contains whitespaces`);
  return v;
}

const SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

function validateSysctl(v: string): string {
  const [k] = cut(v, '=');
  if (v.includes('=') && k !== '' && (SYSCTLS.has(k) || k.startsWith('net.') || k.startsWith('fs.mqueue.'))) return v;
  throw new Error(`sysctl '${v}' is not allowed`);
}

/** Go's net.ParseIP(...).String(), or undefined. */
function canonicalIP(s: string): string | undefined {
  if (s.includes('%')) return undefined;
  const family = isIP(s);
  if (family === 4) return s;
  if (family !== 6) return undefined;
  const host = new URL(`http://[${s}]`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (!mapped) return host;
  const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

function validateIPAddress(v: string): string {
  const ip = canonicalIP(v.trim());
  if (ip === undefined) throw new Error(`IP address is not correctly formatted: ${v}`);
  return ip;
}

// Docker's own pattern, "(:?" typos included, so that the same names pass.
const DOMAIN = /^(:?(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9]))(:?\.(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])))*)\.?\s*$/;

function validateDNSSearch(v: string): string {
  const val = v.replace(/^ +| +$/g, '');
  if (val === '.') return val;
  const m = /[a-zA-Z]/.test(val) ? DOMAIN.exec(val) : null;
  if (m && m[1]!.length < 255) return m[1]!;
  throw new Error(`${val} is not a valid domain`);
}

function validateExtraHost(v: string): string {
  let [k, ip] = cut(v, '=');
  let ok = v.includes('=');
  if (!ok) {
    [k, ip] = cut(v, ':');
    ok = v.includes(':');
  }
  if (!ok || k === '' || k.includes(':')) throw new Error(`bad format for add-host: ${goQuote(v)}`);
  if (ip !== 'host-gateway') {
    if (ip.length > 2 && ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (canonicalIP(ip.trim()) === undefined) throw new Error(`invalid IP address in add-host: ${goQuote(ip)}`);
  }
  return `${k}:${ip}`;
}

function validateNetwork(v: string): string {
  // Docker's test for its CSV form (name=…,alias=…), unanchored as Docker's is.
  if (/\w+=\w+(,\w+=\w+)*/.test(v)) throw new HakoError('unsupported', `--network ${v}: per-network options are not supported by hako`);
  return v;
}

function durationCheck(v: string): void {
  parseGoDuration(v);
}

/** go-units ParseUlimit: NAME=SOFT[:HARD], -1 = unlimited. Throws the bare reason (the flag parser words it). */
export function parseUlimit(v: string): Ulimit {
  const eq = v.indexOf('=');
  if (eq < 0) throw new Error(`invalid ulimit argument: ${v}`);
  const name = v.slice(0, eq);
  if (!ULIMITS.has(name)) throw new Error(`invalid ulimit type: ${name}`);
  const [softText, hardText] = cut(v.slice(eq + 1), ':');
  const int = (s: string) => {
    if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
    return Number(s);
  };
  const hard = v.slice(eq + 1).includes(':') ? int(hardText) : undefined;
  const soft = int(softText);
  const h = hard ?? soft;
  if (h !== -1) {
    if (soft === -1) throw new Error(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${h}`);
    if (soft > h) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${h}`);
  }
  return { Name: name, Soft: soft, Hard: h };
}

const ULIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** One per name, the last one given; sorted by name (as Docker's UlimitOpt). */
function ulimitList(values: readonly string[]): Ulimit[] {
  const byName = new Map(values.map((u) => parseUlimit(u)).map((u) => [u.Name, u]));
  return [...byName.values()].sort((a, b) => (a.Name < b.Name ? -1 : 1));
}

/** --memory-swap: a size, or -1 for unlimited swap. */
export function parseMemorySwap(v: string): number {
  return v === '-1' ? -1 : ramInBytes(v);
}

/** opts.ParseCPUs: a decimal (or a/b) number of CPUs → CPUs × 1e9, exactly. Throws the bare reason. */
export function parseCPUs(v: string): number {
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(v);
  const frac = /^([+-]?[0-9]+)\/([0-9]+)$/.exec(v);
  let num: bigint;
  let den: bigint;
  if (frac && BigInt(frac[2]!) !== 0n) {
    num = BigInt(frac[1]!);
    den = BigInt(frac[2]!);
  } else if (m && (m[2] || m[3])) {
    const digits = `${m[2] ?? ''}${m[3] ?? ''}` || '0';
    num = BigInt(digits) * (m[1] === '-' ? -1n : 1n);
    let exp = BigInt(m[4] ?? '0') - BigInt((m[3] ?? '').length);
    den = 1n;
    if (exp >= 0n) num *= 10n ** exp;
    else den = 10n ** -exp;
  } else throw new Error(`failed to parse ${v} as a rational number`);
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) throw new Error('value is too precise');
  return Number(nano / den);
}

// ---------------------------------------------------------------------------------------
// -v / --mount / --tmpfs

/**
 * The docker CLI's reading of -v (volumespec.Parse): an anonymous volume (no source) goes
 * to Config.Volumes, anything else to HostConfig.Binds, with a ./relative source made
 * absolute. Duplicates count once.
 */
function splitVolumes(specs: readonly string[], cwd: string): { binds: string[]; anonymous: string[] } {
  const binds: string[] = [];
  const anonymous: string[] = [];
  for (const spec of new Set(specs)) {
    const { source, bindType } = cliVolumeSpec(spec);
    if (source === '') {
      anonymous.push(spec);
      continue;
    }
    let out = spec;
    if (bindType) {
      const [hostPart, rest] = cut(spec, ':');
      if (spec.includes(':') && hostPart.startsWith('.')) out = `${resolve(cwd, hostPart)}:${rest}`;
    }
    binds.push(out);
  }
  return { binds, anonymous };
}

function cliVolumeSpec(spec: string): { source: string; bindType: boolean } {
  if (spec === '') throw bad('invalid empty volume spec');
  if (spec.length <= 2) return { source: '', bindType: false };
  let source = '';
  let target = '';
  let buffer = '';
  const fields = [...spec, '\0'];
  for (const ch of fields) {
    if (ch === ':' && buffer.length === 1 && /\p{L}/u.test(buffer)) {
      buffer += ch; // a Windows drive letter, as Docker's parser allows
      continue;
    }
    if (ch !== ':' && ch !== '\0') {
      buffer += ch;
      continue;
    }
    if (buffer === '') throw bad(`invalid spec: ${spec}: empty section between colons`);
    if (source === '' && ch === '\0') target = buffer;
    else if (source === '') source = buffer;
    else if (target === '') target = buffer;
    else if (ch === ':') throw bad(`invalid spec: ${spec}: too many colons`);
    buffer = '';
  }
  return { source, bindType: source !== '' && isFilePath(source) };
}

function isFilePath(source: string): boolean {
  if ('./~'.includes(source[0]!)) return true;
  if ([...source].length === 1) return false;
  return source.startsWith('\\\\') || /^\p{L}:/u.test(source);
}

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const PROPAGATIONS = new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']);
const CONSISTENCY = new Set(['consistent', 'cached', 'delegated']);

function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(',')) {
    const kind = RW_MODES.has(o) ? 0 : LABEL_MODES.has(o) ? 1 : PROPAGATIONS.has(o) ? 2 : o === 'nocopy' ? 3 : CONSISTENCY.has(o) ? 4 : -1;
    if (kind < 0) return false;
    counts[kind]!++;
  }
  return counts.every((n) => n <= 1);
}

/**
 * One `-v` value as the Docker daemon reads it (ParseMountRaw): SRC:DST[:OPTS] or DST;
 * an absolute SRC is a bind mount, anything else a named volume. A ./relative SRC is
 * made absolute first, as the docker CLI does before sending it.
 */
export function parseVolumeSpec(spec: string, cwd: string = process.cwd()): MountConfig {
  const [hostPart, rest] = cut(spec, ':');
  if (spec.includes(':') && hostPart.startsWith('.')) spec = `${resolve(cwd, hostPart)}:${rest}`;
  const invalid = () => bad(`invalid volume specification: '${spec}'`);
  const arr = spec.split(':');
  if (arr[0] === '' || arr.length > 3) throw invalid();
  let source = '';
  let target: string;
  let mode = '';
  if (arr.length === 1) target = arr[0]!;
  else {
    if (arr.length === 2 && validMountMode(arr[1]!)) throw invalid(); // "/foo:rw": a mode, no destination
    [source, target, mode = ''] = arr as [string, string, string?];
  }
  if (!validMountMode(mode)) throw bad(`invalid mode: ${mode}`);
  const opts = mode.split(',');
  const m: MountConfig = { Type: source.startsWith('/') ? 'bind' : 'volume', Source: source, Target: target, ReadOnly: opts.includes('ro') };
  if (opts.includes('nocopy')) m.VolumeOptions = { NoCopy: true };
  const propagation = opts.find((o) => PROPAGATIONS.has(o));
  if (propagation) m.BindOptions = { Propagation: propagation };
  try {
    validateMount(m, false);
  } catch (err) {
    throw bad(`invalid volume specification: '${spec}': ${(err as Error).message}`);
  }
  m.Target = posix.normalize(target).replace(/(.)\/$/, '$1');
  if (m.Type === 'volume' && source !== '') checkVolumeName(source);
  return m;
}

function checkVolumeName(name: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) {
    throw bad(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

function targetError(p: string): string | undefined {
  if (posix.normalize(p.replace(/\\/g, '/')) === '/' || p === '/') return "invalid specification: destination can't be '/'";
  if (!p.replace(/\\/g, '/').startsWith('/')) return `invalid mount path: '${p}' mount path must be absolute`;
  return undefined;
}

/** The daemon's validateMountConfig; for --mount (not -v) it also checks what the source names. */
function validateMount(m: MountConfig, checkSource: boolean): void {
  const fail = (why: string) => bad(`invalid mount config for type ${goQuote(m.Type)}: ${why}`);
  if (m.Type !== 'bind' && m.BindOptions) throw fail('field BindOptions must not be specified');
  if (m.Type !== 'volume' && m.VolumeOptions) throw fail('field VolumeOptions must not be specified');
  if (m.Type !== 'tmpfs' && m.TmpfsOptions) throw fail('field TmpfsOptions must not be specified');
  if (m.Target === '') throw fail('field Target must not be empty');
  const t = targetError(m.Target);
  if (t) throw fail(t);
  if (m.Type === 'bind') {
    if (m.Source === '') throw fail('field Source must not be empty');
    const prop = m.BindOptions?.Propagation;
    if (prop && !PROPAGATIONS.has(prop)) throw fail(`invalid propagation mode: ${prop}`);
    if (!m.Source.startsWith('/')) throw fail(`invalid mount path: '${m.Source}' mount path must be absolute`);
    if (checkSource && !m.BindOptions?.CreateMountpoint && !existsSync(m.Source)) throw fail(`bind source path does not exist: ${m.Source}`);
  } else if (m.Type === 'volume') {
    if (checkSource && m.Source !== '') checkVolumeName(m.Source);
  } else if (m.Source !== '') throw fail('field Source must not be specified');
}

/** Go's encoding/csv, one record: `a,"b,c",d`. */
function csvFields(s: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new Error(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          if (i < s.length && s[i] !== ',') throw new Error(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
          break;
        }
        field += s[i++];
      }
    } else {
      const end = s.indexOf(',', i);
      field = s.slice(i, end < 0 ? s.length : end);
      const q = field.indexOf('"');
      if (q >= 0) throw new Error(`parse error on line 1, column ${i + q + 1}: bare " in non-quoted-field`);
      i += field.length;
    }
    fields.push(field);
    if (i >= s.length) return fields;
    i++; // the comma
  }
}

function mountBool(key: string, val: string, hasValue: boolean): boolean {
  if (!hasValue || val === '1' || val === 'true') return true;
  if (val === '0' || val === 'false') return false;
  throw new Error(`invalid value for '${key}': invalid boolean value (${goQuote(val)}): must be one of "true", "1", "false", or "0" (default "true")`);
}

/**
 * `--mount type=…,source=…,target=…,…`, as Docker's MountOpt. Syntax errors are thrown as
 * bare reasons (the flag parser words them, as pflag does); the daemon's checks come later.
 */
export function parseMountFlag(value: string, cwd: string = process.cwd()): MountConfig {
  value = value.trim();
  if (value === '') throw new Error('value is empty');
  let type = 'volume';
  const m: Omit<MountConfig, 'Type'> = { Source: '', Target: '' };
  const bindOpts = () => (m.BindOptions ??= {});
  const volumeOpts = () => (m.VolumeOptions ??= {});
  const tmpfsOpts = () => (m.TmpfsOptions ??= {});
  const unsupported = (what: string) => new HakoError('unsupported', `--mount ${what} is not supported by hako`);
  for (const field of csvFields(value)) {
    const hasValue = field.includes('=');
    let [key, val] = cut(field, '=');
    if (key.trim() !== key) throw new Error(`invalid option '${key.trim()}' in '${field}': option should not have whitespace`);
    if (hasValue) {
      if (val.trim() === '') throw new Error(`invalid value for '${key}': value is empty`);
      if (val.trim() !== val) throw new Error(`invalid value for '${key}' in '${field}': value should not have whitespace`);
    }
    key = key.toLowerCase();
    if (!hasValue && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive', 'bind-create-src'].includes(key)) {
      throw new Error(`invalid field '${field}' must be a key=value pair`);
    }
    switch (key) {
      case 'type':
        type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        m.Source = !val.startsWith('/') && val.startsWith('.') ? resolve(cwd, val) : val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = val;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = mountBool(key, val, hasValue);
        break;
      case 'consistency':
        break; // macOS only; Docker on Linux ignores it too
      case 'bind-propagation':
        bindOpts().Propagation = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        throw new Error('bind-nonrecursive is deprecated, use bind-recursive=disabled instead');
      case 'bind-recursive':
        if (!['enabled', 'disabled', 'writable', 'readonly'].includes(val)) {
          throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        }
        if (val !== 'enabled') throw unsupported(`bind-recursive=${val}`);
        bindOpts();
        break;
      case 'bind-create-src':
        bindOpts().CreateMountpoint = mountBool(key, val, hasValue);
        break;
      case 'volume-nocopy':
        volumeOpts().NoCopy = mountBool(key, val, hasValue);
        break;
      case 'volume-label': {
        const labels = volumeOpts();
        const [k, lv] = cut(val, '=');
        if (k !== '') labels.Labels = { ...labels.Labels, [k]: lv };
        break;
      }
      case 'volume-driver':
        if (val !== 'local') throw unsupported(`volume-driver=${val}`);
        volumeOpts();
        break;
      case 'volume-subpath':
      case 'volume-opt':
      case 'image-subpath':
        throw unsupported(key);
      case 'tmpfs-size': {
        let size: number;
        try {
          size = ramInBytes(val);
        } catch {
          throw new Error(`invalid value for ${key}: ${val}`);
        }
        tmpfsOpts().SizeBytes = size;
        break;
      }
      case 'tmpfs-mode':
        if (!/^[0-7]+$/.test(val) || Number.parseInt(val, 8) > 0xffffffff) throw new Error(`invalid value for ${key}: ${val}`);
        tmpfsOpts().Mode = Number.parseInt(val, 8);
        break;
      default:
        throw new Error(`unknown option '${key}' in '${field}'`);
    }
  }
  for (const [opts, prefix, t] of [[m.BindOptions, 'bind', 'bind'], [m.VolumeOptions, 'volume', 'volume'], [m.TmpfsOptions, 'tmpfs', 'tmpfs']] as const) {
    if (opts && type !== t) throw new Error(`cannot mix '${prefix}-*' options with mount type '${type}'`);
  }
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
    if (['image', 'npipe', 'cluster'].includes(type)) throw new HakoError('unsupported', `--mount type=${type} is not supported by hako`);
    throw bad(`invalid mount config for type ${goQuote(type)}: mount type unknown`);
  }
  return { Type: type, ...m };
}

function parseTmpfs(values: readonly string[]): Record<string, string> {
  return Object.fromEntries(values.map((t) => cut(t, ':')));
}

function checkTmpfsDestination(dest: string): void {
  const why = targetError(dest);
  if (why) throw bad(why);
}

// ---------------------------------------------------------------------------------------
// Ports: -p (go-connections/nat) and --expose

function convertToStandardNotation(ports: readonly string[]): string[] {
  return ports.map((publish) => {
    if (!publish.includes('=')) return publish;
    const params: Record<string, string> = { protocol: 'tcp' };
    for (const param of publish.split(',')) {
      const [k, val] = cut(param, '=');
      if (!param.includes('=') || k === '') throw bad(`invalid publish opts format (should be name=value but got '${param}')`);
      params[k] = val;
    }
    return `${params['published'] ?? ''}:${params['target'] ?? ''}/${params['protocol']}`;
  });
}

/** parsePortNumber (ParseUint(s, 10, 16)); the error is strconv's bare reason, as Docker reports it. */
function portNumber(raw: string): number {
  if (raw === '') throw new Error('value is empty');
  if (!/^[0-9]+$/.test(raw)) throw new Error('invalid syntax');
  const n = Number(raw);
  if (n > 65535) throw new Error('value out of range');
  return n;
}

function portRange(ports: string): [number, number] {
  const [start, end] = cut(ports, '-');
  let first: number;
  try {
    first = portNumber(start);
  } catch (err) {
    throw new Error(`invalid start port '${start}': ${(err as Error).message}`);
  }
  if (!ports.includes('-') || start === end) return [first, first];
  let last: number;
  try {
    last = portNumber(end);
  } catch (err) {
    throw new Error(`invalid end port '${end}': ${(err as Error).message}`);
  }
  if (last < first) throw new Error(`invalid port range: ${ports}`);
  return [first, last];
}

function parsePortSpecs(specs: readonly string[]): { exposed: string[]; bindings: PortBindings } {
  const exposed: string[] = [];
  const bindings: PortBindings = {};
  for (const raw of specs) {
    const parts = raw.split(':');
    const n = parts.length;
    let ip = n > 2 ? parts.slice(0, n - 2).join(':') : '';
    const hostPort = n >= 2 ? parts[n - 2]! : '';
    let [containerPort, proto] = cut(parts[n - 1]!, '/');
    if (containerPort === '') throw bad(`no port specified: ${raw}<empty>`);
    proto = (proto || 'tcp').toLowerCase();
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw bad(`invalid proto: ${proto}`);
    if (ip.startsWith('[')) {
      if (!ip.endsWith(']')) throw bad(`invalid IP address ${ip}: address ${ip}: missing ']' in address`);
      ip = ip.slice(1, -1);
    }
    if (ip !== '' && canonicalIP(ip) === undefined) throw bad(`invalid IP address: ${ip}`);
    let start: number;
    let end: number;
    try {
      [start, end] = portRange(containerPort);
    } catch {
      throw bad(`invalid containerPort: ${containerPort}`);
    }
    let hostStart = 0;
    let hostEnd = 0;
    if (hostPort !== '') {
      try {
        [hostStart, hostEnd] = portRange(hostPort);
      } catch {
        throw bad(`invalid hostPort: ${hostPort}`);
      }
      if (end - start !== hostEnd - hostStart && end !== start) {
        throw bad(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
      }
    }
    const count = end - start + 1;
    for (let i = 0; i < count; i++) {
      let hp = '';
      if (hostPort !== '') {
        hp = String(hostStart + i);
        if (count === 1 && hostStart !== hostEnd) hp += `-${hostEnd}`;
      }
      const port = `${start + i}/${proto}`;
      if (!exposed.includes(port)) exposed.push(port);
      (bindings[port] ??= []).push({ HostIp: ip, HostPort: hp });
    }
  }
  // Go's JSON sorts map keys: keep `inspect` output in Docker's order.
  return { exposed, bindings: Object.fromEntries(Object.entries(bindings).sort(([a], [b]) => (a < b ? -1 : 1))) };
}

function parseExposeRange(e: string): string[] {
  const [range, protoText] = cut(e, '/');
  const proto = (protoText || 'tcp').toLowerCase();
  let first: number;
  let last: number;
  try {
    if (e === '') throw new Error('invalid port range: value is empty');
    [first, last] = portRange(range);
  } catch (err) {
    throw bad(`invalid range format for --expose: ${(err as Error).message}`);
  }
  const out: string[] = [];
  for (let p = first; p <= last; p++) out.push(`${p}/${proto}`);
  return out;
}

function checkPortBindings(bindings: PortBindings): void {
  for (const port of Object.keys(bindings)) {
    if (port.startsWith('0/')) throw bad(`invalid port specification: ${goQuote(port)}`);
  }
}

// ---------------------------------------------------------------------------------------
// Files of KEY=VALUE lines (--env-file, --label-file): Docker's kvfile format

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
};

/** A Node fs error in Go's *PathError wording: "open /x: no such file or directory". */
function goPathError(err: unknown, op: string, path: string): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return `${code === 'EISDIR' ? 'read' : op} ${path}: ${ERRNO_TEXT[code] ?? (err as Error).message}`;
}

/**
 * kvfile.Parse: leading whitespace and a UTF-8 BOM dropped, `#` lines and blank lines
 * skipped, no quote processing; KEY alone takes its value from `lookup` (env files) or
 * is left out (label files).
 */
function readKVFiles(files: readonly string[], flag: string, lookup?: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const file of files) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (err) {
      throw bad(`${flag}: ${goPathError(err, 'open', file)}`);
    }
    const fail = (why: string) => bad(`${flag}: invalid env file (${file}): ${why}`);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let start = 0;
    for (let lineNo = 1; start < data.length; lineNo++) {
      let end = data.indexOf(10, start);
      if (end < 0) end = data.length;
      let bytes = data.subarray(start, end > start && data[end - 1] === 13 ? end - 1 : end);
      start = end + 1;
      if (lineNo === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      let text: string;
      try {
        text = decoder.decode(bytes);
      } catch {
        throw fail(`invalid utf8 bytes at line ${lineNo}: [${[...bytes].join(' ')}]`);
      }
      const line = text.replace(/^\s+/u, '');
      if (line === '' || line.startsWith('#')) continue;
      const [key] = cut(line, '=');
      if (key === '') throw fail(`no variable name on line '${line}'`);
      if (/[ \t]/.test(key)) throw fail(`variable '${key}' contains whitespaces`);
      if (line.includes('=')) out.push(line);
      else if (lookup && lookup[line] !== undefined) out.push(`${key}=${lookup[line]}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Restart, logging, security options, healthcheck, network

/** opts.ParseRestartPolicy (syntax only; validateRestartPolicy is the daemon's half). */
export function parseRestartPolicy(policy: string): RestartPolicy {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const [name, count] = cut(policy, ':');
  if (policy.includes(':') && name === '') throw bad('invalid restart policy format: no policy provided before colon');
  let retries = 0;
  if (count !== '') {
    try {
      retries = parseGoAtoi(count);
    } catch {
      throw bad('invalid restart policy format: maximum retry count must be an integer');
    }
  }
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: retries };
}

export function validateRestartPolicy(p: RestartPolicy): void {
  switch (p.Name as string) {
    case 'always':
    case 'unless-stopped':
    case 'no':
      if (p.MaximumRetryCount !== 0) {
        throw bad(`invalid restart policy: maximum retry count can only be used with 'on-failure'${p.MaximumRetryCount < 0 ? ' and cannot be negative' : ''}`);
      }
      return;
    case 'on-failure':
      if (p.MaximumRetryCount < 0) throw bad('invalid restart policy: maximum retry count cannot be negative');
      return;
    case '':
      return;
    default:
      throw bad(`invalid restart policy: unknown policy '${p.Name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

const DOCKER_LOG_DRIVERS = new Set(['local', 'syslog', 'journald', 'gelf', 'fluentd', 'awslogs', 'splunk', 'etwlogs', 'gcplogs', 'logentries']);
const DOCKER_JSON_FILE_OPTS = new Set(['compress', 'env', 'env-regex', 'labels', 'labels-regex', 'tag', 'mode', 'max-buffer-size']);

function parseLogging(driver: string | undefined, opts: readonly string[] | undefined): HostConfig['LogConfig'] | undefined {
  if (driver === undefined && opts === undefined) return undefined;
  const config = Object.fromEntries((opts ?? []).map((o) => cut(o, '=')));
  if (driver === 'none' && (opts ?? []).length > 0) throw bad(`invalid logging opts for driver ${driver}`);
  const type = driver || 'json-file';
  if (type !== 'json-file' && type !== 'none') {
    if (DOCKER_LOG_DRIVERS.has(type)) throw new HakoError('unsupported', `log driver ${type} is not supported by hako: only json-file and none`);
    throw bad(`logger: no log driver named '${type}' is registered`);
  }
  for (const [key, value] of Object.entries(config)) {
    if (type === 'none') break;
    if (key === 'max-size') {
      let size: number;
      try {
        size = fromHumanSize(value);
      } catch (err) {
        throw bad((err as Error).message);
      }
      if (size <= 0) throw bad('max-size must be a positive number');
    } else if (key === 'max-file') {
      let n: number;
      try {
        n = parseGoAtoi(value);
      } catch (err) {
        throw bad((err as Error).message);
      }
      if (n < 1) throw bad('max-file cannot be less than 1');
    } else if (DOCKER_JSON_FILE_OPTS.has(key)) {
      throw new HakoError('unsupported', `log opt '${key}' is not supported by hako (json-file takes max-size and max-file)`);
    } else throw bad(`unknown log opt '${key}' for json-file log driver`);
  }
  return { Type: type, Config: config };
}

/**
 * The docker CLI's parseSecurityOpts (a seccomp profile file is read and sent as its
 * compact JSON), then the daemon's parseSecurityOpt forms.
 */
function parseSecurityOpts(opts: readonly string[]): string[] {
  return opts.map((opt) => {
    let [k, v] = cut(opt, '=');
    let ok = opt.includes('=');
    if (!ok && k !== 'no-new-privileges') {
      [k, v] = cut(opt, ':');
      ok = opt.includes(':');
    }
    if ((!ok || v === '') && k !== 'no-new-privileges') throw bad(`invalid --security-opt: ${goQuote(opt)}`);
    if (opt === 'no-new-privileges') return opt;
    switch (k) {
      case 'seccomp':
        if (v === 'builtin' || v === 'unconfined') return opt;
        return `seccomp=${readSeccompProfile(v)}`;
      case 'no-new-privileges':
        try {
          parseGoBool(v);
        } catch {
          throw bad(`invalid --security-opt 2: ${goQuote(opt)}`);
        }
        return opt;
      case 'apparmor':
        return opt;
      case 'label':
        if (v !== 'disable' && !/^(user|role|type|level|filetype):./.test(v)) {
          throw bad(`bad label option ${goQuote(v)}, valid options 'disable' or \n'user, role, level, type, filetype' followed by ':' and a value`);
        }
        return opt;
      case 'systempaths':
      case 'writable-cgroups':
        throw new HakoError('unsupported', `--security-opt ${opt} is not supported by hako`);
      default:
        throw bad(`invalid --security-opt 2: ${goQuote(opt)}`);
    }
  });
}

function readSeccompProfile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw bad(`opening seccomp profile (${path}) failed: ${goPathError(err, 'open', path)}`);
  }
  try {
    JSON.parse(text);
  } catch (err) {
    throw bad(`compacting json for seccomp profile (${path}) failed: ${(err as Error).message}`);
  }
  return compactJSON(text);
}

/** encoding/json.Compact: whitespace outside strings removed, nothing else changed. */
function compactJSON(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') out += c;
  }
  return out;
}

function parseHealth(v: RunValues): HealthConfig | undefined {
  const dur = (s: string | undefined) => (s === undefined ? 0 : parseGoDuration(s));
  const interval = dur(v['health-interval']);
  const timeout = dur(v['health-timeout']);
  const startPeriod = dur(v['health-start-period']);
  const startInterval = dur(v['health-start-interval']);
  const retries = v['health-retries'] ?? 0;
  const cmd = v['health-cmd'] ?? '';
  const have = cmd !== '' || interval !== 0 || timeout !== 0 || startPeriod !== 0 || retries !== 0 || startInterval !== 0;
  if (v['no-healthcheck'] === true) {
    if (have) throw bad('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!have) return undefined;
  if (interval < 0) throw bad('--health-interval cannot be negative');
  if (timeout < 0) throw bad('--health-timeout cannot be negative');
  if (retries < 0) throw bad('--health-retries cannot be negative');
  if (startPeriod < 0) throw bad('--health-start-period cannot be negative');
  if (startInterval < 0) throw bad('--health-start-interval cannot be negative');
  const h: HealthConfig = {};
  if (cmd !== '') h.Test = ['CMD-SHELL', cmd];
  if (interval) h.Interval = interval;
  if (timeout) h.Timeout = timeout;
  if (startPeriod) h.StartPeriod = startPeriod;
  if (startInterval) h.StartInterval = startInterval;
  if (retries) h.Retries = retries;
  return h;
}

function checkHealthMinimums(h: HealthConfig): void {
  const ms = 1_000_000;
  for (const [field, value] of [['Interval', h.Interval], ['Timeout', h.Timeout], ['StartPeriod', h.StartPeriod], ['StartInterval', h.StartInterval]] as const) {
    if (value !== undefined && value !== 0 && value < ms) throw bad(`${field} in Healthcheck cannot be less than 1ms`);
  }
}

const NON_USER_NETWORKS = /^(none|host|bridge|default|container:.*)$/;

function networkMode(networks: readonly string[]): string {
  for (const n of networks) if (n.trim() === '') throw bad('no name set for network');
  if (networks.length > 1) {
    const dup = networks.find((n, i) => networks.indexOf(n) !== i);
    if (dup !== undefined) throw bad(`network ${goQuote(dup)} is specified multiple times`);
    if (networks.some((n) => NON_USER_NETWORKS.test(n)) && networks.some((n) => !NON_USER_NETWORKS.test(n))) {
      throw bad('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
    }
    throw new HakoError('unsupported', 'connecting a container to more than one network is not supported by hako');
  }
  return networks[0]!;
}

function validateDetachKeys(keys: string): void {
  if (keys === '') return;
  for (const key of keys.split(',')) {
    if (key.length === 1 || key === 'DEL' || /^ctrl-([a-z@[\\\]^_])$/.test(key)) continue;
    throw bad(`invalid detach keys (${keys}): Unknown character: '${key}'`);
  }
}

// ---------------------------------------------------------------------------------------
// The daemon's checks

function checkWorkingDir(wd: string): string {
  if (!wd.startsWith('/')) throw bad(`the working directory '${wd}' is invalid, it needs to be an absolute path`);
  return posix.normalize(wd).replace(/(.)\/$/, '$1');
}

/** signal.ParseSignal: any non-zero number, or a known name (with or without SIG). */
function checkSignal(sig: string): void {
  try {
    if (/^[+-]?[0-9]+$/.test(sig)) {
      if (Number(sig) === 0) throw new Error();
      return;
    }
    parseStopSignal(sig);
  } catch {
    throw bad(`Invalid signal: ${sig}`);
  }
}

function checkCapabilities(caps: readonly string[] | null | undefined, field: string): void {
  for (const c of caps ?? []) {
    let name = c.toUpperCase();
    if (name === 'ALL') continue;
    if (!name.startsWith('CAP_')) name = `CAP_${name}`;
    if (!(CAPABILITIES as readonly string[]).includes(name)) throw bad(`invalid ${field}: unknown capability: ${goQuote(name)}`);
  }
}

/** sysinfo's parseUintList: "0-3,5"; at most 8192 (Docker's bound on the set's size). */
function checkCpuset(list: string, what: string): void {
  const invalid = () => bad(`Invalid value ${list} for cpuset ${what}: invalid format: ${list}`);
  if (list === '') return;
  const int = (s: string) => {
    if (!/^[+-]?[0-9]+$/.test(s)) throw invalid();
    const n = Number(s);
    if (n > 8192) throw bad(`Invalid value ${list} for cpuset ${what}: value of out range, maximum is 8192`);
    return n;
  };
  for (const r of list.split(',')) {
    if (!r.includes('-')) int(r);
    else {
      const [a, b] = cut(r, '-');
      if (int(b) < int(a)) throw invalid();
    }
  }
}

function checkResources(h: Partial<HostConfig>): void {
  const memory = h.Memory ?? 0;
  const swap = h.MemorySwap ?? 0;
  if (memory !== 0 && memory < 6 * 1024 * 1024) throw bad('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) throw bad('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && swap > 0) throw bad('You should always set the Memory limit when using Memoryswap limit, see usage');
  const nano = h.NanoCpus ?? 0;
  if (nano > 0 && (h.CpuPeriod ?? 0) > 0) throw bad('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (h.CpuQuota ?? 0) > 0) throw bad('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  const ncpu = availableParallelism();
  if (nano < 0 || nano > ncpu * 1e9) throw bad(`range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  const period = h.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000)) throw bad('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  const quota = h.CpuQuota ?? 0;
  if (quota > 0 && quota < 1000) throw bad('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  checkCpuset(h.CpusetCpus ?? '', 'cpus');
  checkCpuset(h.CpusetMems ?? '', 'mems');
  const oom = h.OomScoreAdj ?? 0;
  if (oom < -1000 || oom > 1000) throw bad(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);
}

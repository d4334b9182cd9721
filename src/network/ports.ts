import { HakoError } from '../common/errors.ts';

/** A published port as the portmap plugin takes it (and as `port`/`ps` show it). */
export interface PortMapping {
  hostIP: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export type PortBindings = Record<string, Array<{ HostIp: string; HostPort: string }>>;

/**
 * Docker's publishing rules turned into mappings: `-p` bindings (a host port, a range
 * to choose from, or none: a free one), and with `-P` every exposed port not bound yet.
 * TAKEN: host ports other containers publish already (not bound sockets: DNAT rules).
 */
export async function resolvePorts(bindings: PortBindings, publishAll: boolean, exposed: Record<string, unknown> | undefined, taken: PortMapping[]): Promise<PortMapping[]> {
  const all: PortBindings = { ...bindings };
  if (publishAll) for (const p of Object.keys(exposed ?? {})) all[p] ??= [{ HostIp: '', HostPort: '' }];
  const out: PortMapping[] = [];
  for (const [key, list] of Object.entries(all)) {
    const [port, proto = 'tcp'] = key.split('/');
    const containerPort = Number(port);
    const protocol = proto as PortMapping['protocol'];
    for (const b of list) {
      const hostIP = b.HostIp || '';
      const used = [...taken, ...out];
      let hostPort: number;
      if (!b.HostPort || b.HostPort === '0') hostPort = await freePort(protocol, hostIP, used);
      else if (b.HostPort.includes('-')) {
        const [lo, hi] = b.HostPort.split('-').map(Number) as [number, number];
        hostPort = await firstFree(protocol, hostIP, lo, hi, used);
      } else {
        hostPort = Number(b.HostPort);
        await checkFree(protocol, hostIP, hostPort, used);
      }
      out.push({ hostIP, hostPort, containerPort, protocol });
    }
  }
  return out;
}

const clash = (used: PortMapping[], protocol: string, hostIP: string, port: number) =>
  used.some((m) => m.protocol === protocol && m.hostPort === port && (m.hostIP === '' || hostIP === '' || m.hostIP === hostIP));

function allocated(hostIP: string, port: number): HakoError {
  return new HakoError('in-use', `Bind for ${hostIP || '0.0.0.0'}:${port} failed: port is already allocated`);
}

async function checkFree(protocol: string, hostIP: string, port: number, used: PortMapping[]): Promise<void> {
  if (clash(used, protocol, hostIP, port) || !(await canBind(protocol, hostIP, port))) throw allocated(hostIP, port);
}

async function firstFree(protocol: string, hostIP: string, lo: number, hi: number, used: PortMapping[]): Promise<number> {
  for (let p = lo; p <= hi; p++) if (!clash(used, protocol, hostIP, p) && (await canBind(protocol, hostIP, p))) return p;
  throw allocated(hostIP, lo);
}

/** A port the kernel says is free (it picks one for port 0), not published by another container. */
async function freePort(protocol: string, hostIP: string, used: PortMapping[]): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const p = await bindAny(protocol, hostIP);
    if (!clash(used, protocol, hostIP, p)) return p;
  }
  throw new HakoError('in-use', 'no free host port found');
}

function canBind(protocol: string, hostIP: string, port: number): Promise<boolean> {
  return tryBind(protocol, hostIP, port).then(
    () => true,
    () => false,
  );
}

function bindAny(protocol: string, hostIP: string): Promise<number> {
  return tryBind(protocol, hostIP, 0);
}

/** Binds and closes at once: the port the kernel gave, or an error when it is taken. */
async function tryBind(protocol: string, hostIP: string, port: number): Promise<number> {
  const host = hostIP || '0.0.0.0';
  // Loaded only when ports are published: most containers never need them.
  const { createSocket } = await import('node:dgram');
  const { createServer } = await import('node:net');
  if (protocol === 'udp') {
    return new Promise((resolve, reject) => {
      const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      s.once('error', (e) => (s.close(), reject(e)));
      s.bind(port, host, () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
  }
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port, host, exclusive: true }, () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

/** Docker's `ps` PORTS text: 0.0.0.0:8080->80/tcp, 9000/udp for an exposed one. */
export function formatPorts(mappings: PortMapping[], exposed: Record<string, unknown> | undefined): string {
  const parts = mappings.map((m) => `${m.hostIP || '0.0.0.0'}:${m.hostPort}->${m.containerPort}/${m.protocol}`);
  const mapped = new Set(mappings.map((m) => `${m.containerPort}/${m.protocol}`));
  for (const p of Object.keys(exposed ?? {})) if (!mapped.has(p)) parts.push(p);
  return parts.join(', ');
}

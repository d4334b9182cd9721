import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine } from '../helpers/engine.ts';

/**
 * Networking end to end: published ports reached from the host, user networks with
 * names and aliases and isolation between networks, outbound NAT to an "outside host"
 * (a network namespace this test makes, no traffic leaves the machine), an internal
 * network without a route out, and nothing of hako's left in `ip link`, `ip netns` or the
 * firewall once everything is removed.
 */
const why = !existsSync('/usr/lib/cni/bridge') ? "the CNI plugins are missing (Debian's containernetworking-plugins; ./setup installs them)" : !existsSync('/usr/sbin/iptables') ? 'iptables is missing' : undefined;
if (why) console.log(`# network tests skipped: ${why}`);

const OUT_NS = `hkt-out-${process.pid}`;
const OUT_HOST_IF = `hkto${process.pid % 100000}`;
const OUT_NS_IF = `hkti${process.pid % 100000}`;
const OUT_HOST_IP = '198.51.100.1';
const OUT_IP = '198.51.100.2';

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}

/** Every trace a container or network of this engine could leave on the host's network. */
function networkTraces(e: Engine, ids: string[], bridges: string[], subnets: string[]): string[] {
  const found: string[] = [];
  const links = sh('ip', ['-o', 'link']);
  for (const b of bridges) if (links.includes(` ${b}:`) || links.includes(` ${b}@`)) found.push(`link ${b}`);
  const netns = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
  for (const id of ids) if (netns.includes(`hako-${id.slice(0, 12)}`)) found.push(`netns hako-${id.slice(0, 12)}`);
  const rules = sh('iptables-save', []) + (existsSync('/usr/sbin/ip6tables-save') ? sh('ip6tables-save', []) : '');
  for (const line of rules.split('\n')) {
    if (ids.some((id) => line.includes(id)) || bridges.some((b) => line.includes(b)) || subnets.some((s) => s && line.includes(s.split('/')[0]!.replace(/\.0$/, '.')))) found.push(`rule ${line}`);
    if (line.includes('hako-') && line.includes(e.root)) found.push(`rule ${line}`);
  }
  return found;
}

describe('networking', { skip: why }, () => {
  let e: Engine;
  const ids: string[] = [];
  const bridges: string[] = [];
  const subnets: string[] = [];
  let outside: ChildProcess | undefined;

  before(async () => {
    e = new Engine('hako-net-');
    // The outside host: a namespace behind a veth, serving the address each client comes from.
    spawnSync('ip', ['netns', 'delete', OUT_NS]);
    sh('ip', ['netns', 'add', OUT_NS]);
    sh('ip', ['link', 'add', OUT_HOST_IF, 'type', 'veth', 'peer', 'name', OUT_NS_IF]);
    sh('ip', ['link', 'set', OUT_NS_IF, 'netns', OUT_NS]);
    sh('ip', ['addr', 'add', `${OUT_HOST_IP}/24`, 'dev', OUT_HOST_IF]);
    sh('ip', ['link', 'set', OUT_HOST_IF, 'up']);
    sh('ip', ['netns', 'exec', OUT_NS, 'ip', 'addr', 'add', `${OUT_IP}/24`, 'dev', OUT_NS_IF]);
    sh('ip', ['netns', 'exec', OUT_NS, 'ip', 'link', 'set', OUT_NS_IF, 'up']);
    sh('ip', ['netns', 'exec', OUT_NS, 'ip', 'link', 'set', 'lo', 'up']);
    outside = spawn('ip', ['netns', 'exec', OUT_NS, process.execPath, '-e', `require('http').createServer((q, r) => r.end(q.socket.remoteAddress.replace(/^::ffff:/, ''))).listen(8080, '${OUT_IP}', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => outside!.stdout!.once('data', () => resolve()));
  });

  after(() => {
    outside?.kill('SIGKILL');
    spawnSync('ip', ['link', 'delete', OUT_HOST_IF]);
    spawnSync('ip', ['netns', 'delete', OUT_NS]);
    e?.cleanup();
  });

  const run = (args: string[]) => {
    const id = e.track(e.ok(['run', '-d', ...args]));
    ids.push(id);
    return id;
  };
  const inspect = (ref: string, f: string) => e.ok(['inspect', '-f', f, ref]).trim();
  const httpd = (name: string, extra: string[]) =>
    run(['--name', name, ...extra, 'busybox', 'sh', '-c', `mkdir -p /www && echo "hello from ${name}" > /www/index.html && exec httpd -f -p 80 -h /www`]);
  const fetchFrom = async (url: string): Promise<string> => {
    for (let i = 0; ; i++) {
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
        return await r.text();
      } catch (err) {
        if (i > 20) throw new Error(`${url}: ${(err as Error).message}`);
        await sleep(100);
      }
    }
  };

  test('a published port serves the host on 127.0.0.1, the bridge gateway and its other addresses; -P picks free ports', async () => {
    const web = httpd('web', ['-p', '127.0.0.1:0:80', '-p', '18080:80', '--expose', '81', '-P']);
    const ip = inspect(web, '{{.NetworkSettings.IPAddress}}');
    const gw = inspect(web, '{{.NetworkSettings.Gateway}}');
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    const bridge = JSON.parse(e.ok(['network', 'inspect', 'bridge']))[0];
    bridges.push(bridge.Options['com.docker.network.bridge.name']);
    subnets.push(bridge.IPAM.Config[0].Subnet);
    const ports = e.ok(['port', 'web']).trim().split('\n');
    const local = /^80\/tcp -> 127\.0\.0\.1:(\d+)$/m.exec(ports.join('\n'))?.[1];
    assert.ok(local && Number(local) > 0, ports.join('\n'));
    assert.ok(ports.includes('80/tcp -> 0.0.0.0:18080'), ports.join('\n'));
    assert.match(ports.join('\n'), /^81\/tcp -> 0\.0\.0\.0:\d+$/m, '-P publishes the exposed port on a free host port');
    assert.equal(await fetchFrom(`http://127.0.0.1:${local}/`), 'hello from web\n');
    assert.equal(await fetchFrom('http://127.0.0.1:18080/'), 'hello from web\n');
    assert.equal(await fetchFrom(`http://${gw}:18080/`), 'hello from web\n');
    const hostIp = sh('ip', ['-o', '-4', 'addr', 'show', 'scope', 'global']).split('\n').map((l) => /inet (\d+\.\d+\.\d+\.\d+)/.exec(l)?.[1]).find((a) => a && a !== gw && a !== OUT_HOST_IP);
    if (hostIp) assert.equal(await fetchFrom(`http://${hostIp}:18080/`), 'hello from web\n');
    else console.log('# no other host address to fetch from');
    assert.match(e.ok(['ps', '--format', '{{.Ports}}', '-f', 'name=web']), /0\.0\.0\.0:18080->80\/tcp/);
    // The same host port again: Docker's error, and nothing is left of the attempt.
    const clash = e.hako(['run', '-d', '-p', '18080:80', 'busybox', 'sleep', '5']);
    assert.notEqual(clash.status, 0);
    assert.match(clash.stderr, /Bind for 0\.0\.0\.0:18080 failed: port is already allocated/);
  });

  test('outbound NAT: a container reaches the outside host, which sees the host\'s address', () => {
    const out = e.ok(['run', '--rm', 'busybox', 'wget', '-qO-', `http://${OUT_IP}:8080/`]);
    assert.equal(out, OUT_HOST_IP);
  });

  test('a user network: names and aliases resolve, another network cannot reach it, --internal has no way out', async () => {
    const front = e.ok(['network', 'create', 'front']).trim();
    e.ok(['network', 'create', '--subnet', '10.123.45.0/24', '--gateway', '10.123.45.254', 'other']);
    e.ok(['network', 'create', '--internal', 'inner']);
    for (const n of ['front', 'other', 'inner']) {
      const v = JSON.parse(e.ok(['network', 'inspect', n]))[0];
      bridges.push(v.Options['com.docker.network.bridge.name']);
      subnets.push(v.IPAM.Config[0].Subnet);
    }
    assert.equal(JSON.parse(e.ok(['network', 'inspect', 'other']))[0].IPAM.Config[0].Gateway, '10.123.45.254');
    assert.match(e.ok(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']), /^front bridge$/m);
    const srv = httpd('srv', ['--network', 'front', '--network-alias', 'api']);
    assert.equal(inspect(srv, '{{.NetworkSettings.Networks.front.NetworkID}}'), front);
    const srvIp = inspect(srv, '{{.NetworkSettings.Networks.front.IPAddress}}');
    assert.equal(e.ok(['run', '--rm', '--network', 'front', 'busybox', 'wget', '-qO-', 'http://srv/']), 'hello from srv\n');
    assert.equal(e.ok(['run', '--rm', '--network', 'front', 'busybox', 'wget', '-qO-', 'http://api/']), 'hello from srv\n');
    // From another network (and from the default one): no route through the host to it.
    const fromOther = e.hako(['run', '--rm', '--network', 'other', 'busybox', 'wget', '-T', '2', '-qO-', `http://${srvIp}/`]);
    assert.notEqual(fromOther.status, 0, fromOther.stdout);
    const byName = e.hako(['run', '--rm', '--network', 'other', 'busybox', 'wget', '-T', '2', '-qO-', 'http://srv/']);
    assert.notEqual(byName.status, 0, 'the name is not known on another network');
    const fromDefault = e.hako(['run', '--rm', 'busybox', 'wget', '-T', '2', '-qO-', `http://${srvIp}/`]);
    assert.notEqual(fromDefault.status, 0, fromDefault.stdout);
    // connect: now it is on both, and reaches srv by name
    const client = run(['--name', 'client', '--network', 'other', 'busybox', 'sleep', '300']);
    e.ok(['network', 'connect', 'front', 'client']);
    assert.equal(e.ok(['exec', 'client', 'wget', '-qO-', 'http://srv/']), 'hello from srv\n');
    e.ok(['network', 'disconnect', 'front', 'client']);
    assert.notEqual(e.hako(['exec', 'client', 'wget', '-T', '2', '-qO-', `http://${srvIp}/`]).status, 0);
    void client;
    // internal: no route out, but its members reach each other
    const inner = run(['--name', 'inner1', '--network', 'inner', 'busybox', 'sleep', '300']);
    void inner;
    const route = e.ok(['run', '--rm', '--network', 'inner', 'busybox', 'ip', 'route']);
    assert.doesNotMatch(route, /default/);
    const noWayOut = e.hako(['run', '--rm', '--network', 'inner', 'busybox', 'wget', '-T', '2', '-qO-', `http://${OUT_IP}:8080/`]);
    assert.notEqual(noWayOut.status, 0);
    const ping = e.hako(['run', '--rm', '--network', 'inner', 'busybox', 'ping', '-c', '1', '-W', '2', 'inner1']);
    assert.equal(ping.status, 0, ping.stderr);
    // a network in use cannot go
    const busy = e.hako(['network', 'rm', 'front']);
    assert.equal(busy.status, 1);
    assert.match(busy.stderr, /has active endpoints/);
  });

  const noIPv6 = readFileSync('/proc/sys/net/ipv6/conf/all/disable_ipv6', 'utf8').trim() === '1' ? 'IPv6 is disabled on this host' : false;
  test('an --ipv6 network: containers get IPv6 addresses too and reach each other by name over IPv6', { skip: noIPv6 }, () => {
    e.ok(['network', 'create', '--ipv6', '--subnet', 'fd00:abcd:12::/64', '--subnet', '10.123.46.0/24', 'six']);
    const v = JSON.parse(e.ok(['network', 'inspect', 'six']))[0];
    assert.equal(v.EnableIPv6, true);
    assert.deepEqual(v.IPAM.Config, [{ Subnet: '10.123.46.0/24', Gateway: '10.123.46.1' }, { Subnet: 'fd00:abcd:12::/64', Gateway: 'fd00:abcd:12::1' }]);
    bridges.push(v.Options['com.docker.network.bridge.name']);
    subnets.push('10.123.46.0/24', 'fd00:abcd:12::/64');
    const peer = run(['--name', 'peer6', '--network', 'six', 'busybox', 'sleep', '300']);
    const ip6 = inspect(peer, '{{.NetworkSettings.GlobalIPv6Address}}');
    assert.match(ip6, /^fd00:abcd:12::[0-9a-f]+$/);
    assert.equal(inspect(peer, '{{.NetworkSettings.IPv6Gateway}}'), 'fd00:abcd:12::1');
    const r = e.hako(['run', '--rm', '--network', 'six', 'busybox', 'ping', '-6', '-c', '1', '-W', '2', 'peer6']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`from ${ip6.replace(/:/g, ':')}`));
    assert.match(e.ok(['run', '--rm', '--network', 'six', 'busybox', 'ip', '-6', 'route']), /default via fd00:abcd:12::1/);
    const noFlag = e.hako(['network', 'create', '--subnet', 'fd00:abcd:13::/64', 'six-bad']);
    assert.equal(noFlag.status, 1);
    assert.match(noFlag.stderr, /IPv6: add --ipv6/);
  });

  test('--network container:NAME shares its network; none has only lo', () => {
    const target = run(['--name', 'shared', 'busybox', 'sleep', '300']);
    const ip = inspect(target, '{{.NetworkSettings.IPAddress}}');
    const seen = e.ok(['run', '--rm', '--network', 'container:shared', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
    assert.match(seen, new RegExp(` ${ip.replace(/\./g, '\\.')}/`));
    assert.equal(e.ok(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net']).trim(), 'lo');
  });

  test('a container that dies without its monitor: the next command cleans its network up', async () => {
    const id = run(['-p', '18081:80', 'busybox', 'sleep', '300']);
    const mon = JSON.parse(e.ok(['inspect', id]))[0].State.Pid as number;
    // kill -9 the monitor and the container: no one is left to tear the network down
    const monitorPid = Number(/^monitor_pid=(\d+)$/m.exec(readFileSync(`${e.root}/containers/${id}/monitor.state`, 'utf8'))?.[1]);
    process.kill(monitorPid, 'SIGKILL');
    process.kill(mon, 'SIGKILL');
    await sleep(200);
    assert.ok(sh('iptables-save', []).includes(id), 'the rules are still there');
    e.ok(['ps']);
    assert.ok(!sh('iptables-save', []).includes(id), 'ps reconciled the dead container\'s network');
    assert.ok(!existsSync(`/run/netns/hako-${id.slice(0, 12)}`));
    // and its port is free again
    run(['-p', '18081:80', 'busybox', 'sleep', '1']);
  });

  test('after removing every container and network, nothing of hako\'s is left', async () => {
    const all = e.ok(['ps', '-aq', '--no-trunc']).split('\n').filter(Boolean);
    if (all.length) e.ok(['rm', '-f', ...all]);
    for (const n of ['front', 'other', 'inner', ...(noIPv6 ? [] : ['six'])]) e.ok(['network', 'rm', n]);
    await sleep(300); // a monitor's last cleanup may still be running
    assert.deepEqual(networkTraces(e, ids, bridges, subnets), []);
    assert.match(e.ok(['network', 'ls', '--format', '{{.Name}}']).trim(), /^bridge\nhost\nnone$/);
  });
});

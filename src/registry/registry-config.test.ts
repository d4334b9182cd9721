import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadRegistryConfig } from './registry-config.ts';

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'hako-regcfg-'));
  roots.push(dir);
  const path = join(dir, 'daemon.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const refused = (content: unknown, message: RegExp) => {
  const path = configFile(content);
  assert.throws(
    () => loadRegistryConfig(path),
    (e: any) => e.code === 'invalid-config' && e.message.startsWith(`${path}: `) && message.test(e.message),
    String(JSON.stringify(content)),
  );
};

describe('registry config (daemon.json)', () => {
  test('a missing file gives the defaults: only loopback is insecure, no mirrors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hako-regcfg-'));
    roots.push(dir);
    const c = loadRegistryConfig(join(dir, 'absent.json'));
    for (const h of ['localhost', 'localhost:5000', 'LOCALHOST:5000', '127.0.0.1', '127.0.0.1:5000', '127.8.9.10:80', '::1', '[::1]:5000', '[::ffff:127.0.0.1]:5000']) {
      assert.equal(c.insecure(h), true, h);
    }
    for (const h of ['docker.io', 'ghcr.io', 'myreg:5000', '10.0.0.1:5000', '128.0.0.1', '[::2]:5000', 'localhost.example.com', 'mylocalhost:5000', '']) {
      assert.equal(c.insecure(h), false, h);
    }
    assert.deepEqual(c.mirrors('docker.io'), []);
  });

  test('$HAKO_REGISTRY_CONFIG is read when no path is given', () => {
    const path = configFile({ 'insecure-registries': ['envreg:5000'] });
    const before = process.env['HAKO_REGISTRY_CONFIG'];
    process.env['HAKO_REGISTRY_CONFIG'] = path;
    try {
      assert.equal(loadRegistryConfig().insecure('envreg:5000'), true);
    } finally {
      if (before === undefined) delete process.env['HAKO_REGISTRY_CONFIG'];
      else process.env['HAKO_REGISTRY_CONFIG'] = before;
    }
  });

  test('insecure registries: exact host[:port], CIDRs for IP literals', () => {
    const c = loadRegistryConfig(
      configFile({
        'insecure-registries': ['myreg:5000', 'Other.Example', 'http://legacy:5000', '10.0.0.0/8', '192.168.1.7/32', 'fd00::/8', '[fe80::1]:5000', 'docker.io'],
        'log-level': 'debug',
        'data-root': '/var/lib/x',
      }),
    );
    assert.equal(c.insecure('myreg:5000'), true);
    assert.equal(c.insecure('MYREG:5000'), true);
    assert.equal(c.insecure('myreg'), false, 'another port is another registry');
    assert.equal(c.insecure('myreg:5001'), false);
    assert.equal(c.insecure('other.example'), true);
    assert.equal(c.insecure('legacy:5000'), true, 'the http:// prefix is dropped, as Docker does');
    assert.equal(c.insecure('10.1.2.3:5000'), true);
    assert.equal(c.insecure('10.1.2.3'), true);
    assert.equal(c.insecure('11.1.2.3:5000'), false);
    assert.equal(c.insecure('192.168.1.7:443'), true);
    assert.equal(c.insecure('192.168.1.8:443'), false);
    assert.equal(c.insecure('[fd12::5]:5000'), true);
    assert.equal(c.insecure('[fe80::1]:5000'), true);
    assert.equal(c.insecure('[fe80::1]:5001'), false);
    assert.equal(c.insecure('[::ffff:10.0.0.1]:5000'), true, 'IPv4-mapped addresses match IPv4 CIDRs');
    assert.equal(c.insecure('ten.example:5000'), false, 'names are not resolved');
    assert.equal(c.insecure('docker.io'), false, 'Docker Hub is always secure');
    assert.equal(c.insecure('registry-1.docker.io'), false);
  });

  test('mirrors: normalised, deduplicated, only for Docker Hub', () => {
    const c = loadRegistryConfig(
      configFile({ 'registry-mirrors': ['https://mirror.example:5000/', 'HTTP://Mirror2.Example', 'https://mirror.example:5000', 'https://m3.example:443/path//'] }),
    );
    const want = ['https://mirror.example:5000', 'http://mirror2.example', 'https://m3.example/path'];
    assert.deepEqual(c.mirrors('docker.io'), want);
    assert.deepEqual(c.mirrors('index.docker.io'), want);
    assert.deepEqual(c.mirrors('registry-1.docker.io'), want);
    assert.deepEqual(c.mirrors('ghcr.io'), []);
    assert.deepEqual(c.mirrors('mirror.example:5000'), []);
    c.mirrors('docker.io').pop();
    assert.equal(c.mirrors('docker.io').length, 3, 'callers get a copy');
  });

  test('empty file and null values are the defaults', () => {
    assert.deepEqual(loadRegistryConfig(configFile('')).mirrors('docker.io'), []);
    assert.deepEqual(loadRegistryConfig(configFile('  \n')).mirrors('docker.io'), []);
    assert.equal(loadRegistryConfig(configFile({ 'insecure-registries': null, 'registry-mirrors': null })).insecure('x:1'), false);
  });

  test('malformed files and wrong types are refused, naming the file and the key', () => {
    refused('{"insecure-registries": [', /invalid JSON/);
    refused('[]', /top level must be a JSON object/);
    refused('"x"', /top level must be a JSON object/);
    refused({ 'insecure-registries': 'myreg:5000' }, /"insecure-registries": must be a list of strings, got string/);
    refused({ 'insecure-registries': ['ok:1', 5] }, /"insecure-registries": item 1 must be a string, got number/);
    refused({ 'registry-mirrors': { a: 1 } }, /"registry-mirrors": must be a list of strings/);
    refused({ 'registry-mirrors': [null] }, /"registry-mirrors": item 0 must be a string, got null/);
  });

  test('invalid entries are refused', () => {
    refused({ 'insecure-registries': ['ftp://myreg:5000'] }, /"insecure-registries": "ftp:\/\/myreg:5000" should not contain ':\/\/'/);
    refused({ 'insecure-registries': ['10.0.0.0/33'] }, /"insecure-registries": "10.0.0.0\/33" is neither host\[:port\] nor a CIDR/);
    refused({ 'insecure-registries': ['myreg/8'] }, /neither host\[:port\] nor a CIDR/);
    refused({ 'insecure-registries': ['my_reg:5000'] }, /"insecure-registries": "my_reg:5000" is not a valid host\[:port\]/);
    refused({ 'insecure-registries': ['myreg:99999'] }, /not a valid host\[:port\]/);
    refused({ 'insecure-registries': ['-bad-:5000'] }, /not a valid host\[:port\]/);
    refused({ 'registry-mirrors': ['mirror.example'] }, /"registry-mirrors": "mirror.example" is not a valid URL/);
    refused({ 'registry-mirrors': ['ftp://mirror.example'] }, /unsupported scheme "ftp"/);
    refused({ 'registry-mirrors': ['https://mirror.example/?a=b'] }, /must not have a query or fragment/);
    refused({ 'registry-mirrors': ['https://mirror.example/#x'] }, /must not have a query or fragment/);
    refused({ 'registry-mirrors': ['https://u:secret@mirror.example/'] }, /a username or password is not allowed/);
    const path = configFile({ 'registry-mirrors': ['https://u:secret@mirror.example/'] });
    assert.throws(() => loadRegistryConfig(path), (e: any) => !e.message.includes('secret'), 'the password is not echoed');
  });
});

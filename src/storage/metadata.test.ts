import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { MetadataStore, SCHEMA_VERSION, type NewLayer } from './metadata.ts';

const run = promisify(execFile);
const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'hako-meta-'));
  roots.push(root);
  return root;
}

const dg = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** Layers with real chain ids (computed here, as image/digest.ts does) from diff names. */
function layers(...diffs: string[]): NewLayer[] {
  const out: NewLayer[] = [];
  diffs.forEach((name, i) => {
    const diffId = dg(name);
    const chainId = i === 0 ? diffId : dg(`${out[i - 1]!.chainId} ${diffId}`);
    out.push({ chainId, diffId, size: 1000 * (i + 1) });
  });
  return out;
}

const image = (config: string) => ({ id: dg(config), manifestDigest: dg(`m-${config}`), mediaType: 'application/vnd.oci.image.manifest.v1+json', os: 'linux', architecture: 'amd64' });

describe('metadata database', () => {
  test('locks: one holder at a time; a dead holder\'s lock lapses; blob sources are remembered', () => {
    using m = new MetadataStore(tempRoot());
    assert.equal(m.tryLock('blob:x'), true);
    assert.equal(m.tryLock('blob:x'), false, 'not reentrant: held by a live process');
    m.unlock('blob:x');
    assert.equal(m.tryLock('blob:x'), true);
    // A holder that is gone (pid 1 with another start time) does not count.
    const db = new DatabaseSync(m.path);
    db.prepare("UPDATE locks SET pid = 1, start = 'not-this' WHERE name = 'blob:x'").run();
    db.close();
    assert.equal(m.tryLock('blob:x'), true);
    m.addBlobSource(dg('a'), 'reg:5000/one');
    m.addBlobSource(dg('a'), 'reg:5000/two');
    m.addBlobSource(dg('a'), 'reg:5000/one');
    assert.deepEqual(m.blobSources(dg('a')), ['reg:5000/two', 'reg:5000/one']);
    assert.throws(() => m.addBlobSource('nope', 'x'), /invalid digest/);
  });

  test('schema: WAL, migrations recorded, reopening is a no-op', () => {
    const root = tempRoot();
    new MetadataStore(root).close();
    using m = new MetadataStore(root);
    assert.equal(m.schemaVersion(), SCHEMA_VERSION);
    const db = new DatabaseSync(m.path);
    assert.equal((db.prepare('PRAGMA journal_mode').get() as any).journal_mode, 'wal');
    assert.deepEqual(
      db.prepare('SELECT version, name FROM migrations').all().map((r: any) => r.version),
      [1, 2, 3, 4, 5],
    );
    db.exec('PRAGMA user_version = 99');
    db.exec("INSERT INTO migrations VALUES (99, 'future', 'now')");
    db.close();
    assert.throws(() => new MetadataStore(root), (e: any) => e.code === 'unsupported' && /schema version 99, newer than this hako knows/.test(e.message));
  });

  test('two images sharing layers: refcounts, removal frees only unshared layers', () => {
    using m = new MetadataStore(tempRoot());
    const a = layers('base', 'a1', 'a2');
    const b = layers('base', 'b1');
    assert.deepEqual(m.addImage(image('A'), a, ['docker.io/library/a:latest']), { added: true, retagged: [] });
    m.addImage(image('B'), b, ['docker.io/library/b:latest']);
    assert.deepEqual(m.layersOf(dg('A')).map((l) => l.refcount), [2, 1, 1]);
    assert.deepEqual(m.layersOf(dg('B')).map((l) => [l.chainId, l.parent, l.refcount]), [
      [b[0]!.chainId, null, 2],
      [b[1]!.chainId, b[0]!.chainId, 1],
    ]);
    assert.equal(m.getImage(dg('A'))!.size, 6000);
    // Adding A again (another tag) touches no refcount.
    assert.deepEqual(m.addImage(image('A'), a, ['docker.io/library/a:v1']), { added: false, retagged: [] });
    assert.equal(m.getLayer(a[0]!.chainId)!.refcount, 2);

    assert.deepEqual(m.removeImage(dg('A')), [a[2]!.chainId, a[1]!.chainId]);
    assert.equal(m.getLayer(a[0]!.chainId)!.refcount, 1);
    assert.equal(m.getImage(dg('A')), undefined);
    assert.throws(() => m.resolve('docker.io/library/a:v1'), { code: 'not-found' });
    assert.deepEqual(m.removeImage(dg('B')), [b[1]!.chainId, b[0]!.chainId]);
    assert.equal(m.getLayer(a[0]!.chainId), undefined);
    assert.deepEqual(m.listImages(), []);
    assert.throws(() => m.removeImage(dg('B')), (e: any) => e.code === 'not-found' && e.message === `no such image: ${dg('B')}`);
  });

  test('a failed change leaves nothing behind (the transaction rolls back)', () => {
    using m = new MetadataStore(tempRoot());
    m.addImage(image('A'), layers('base', 'x'));
    // Same chain id recorded with another diff id: refused midway, after the image row went in.
    const broken = layers('base', 'y');
    broken[1]!.chainId = layers('base', 'x')[1]!.chainId;
    assert.throws(() => m.addImage(image('C'), broken, ['c:latest']), { code: 'invalid-state' });
    assert.equal(m.getImage(dg('C')), undefined);
    assert.equal(m.getLayer(dg('base'))!.refcount, 1);
    assert.throws(() => m.resolve('c:latest'), { code: 'not-found' });
  });

  test('input is validated', () => {
    using m = new MetadataStore(tempRoot());
    assert.throws(() => m.addImage({ ...image('A'), id: 'sha256:nope' }, []), /image id: invalid digest/);
    assert.throws(() => m.addImage(image('A'), [{ chainId: dg('x'), diffId: dg('y') }]), /chain id of the bottom layer is its diff id/);
    assert.throws(() => m.addImage(image('A'), [], ['has space']), /invalid image name "has space"/);
    assert.throws(() => m.addImage(image('A'), [{ ...layers('l')[0]!, size: -5 }]), /layers\[0\]\.size must be a non-negative integer/);
  });

  test('tags and Docker-like resolution', () => {
    using m = new MetadataStore(tempRoot());
    m.addImage(image('A'), layers('base'), ['docker.io/library/busybox:latest']);
    m.addImage({ ...image('B'), indexDigest: dg('index-B') }, layers('base', 'b'), ['docker.io/library/alpine:3']);
    const idA = dg('A');
    assert.equal(m.resolve(idA).id, idA);
    assert.equal(m.resolve(idA.slice(7)).id, idA); // 64 hex without "sha256:"
    assert.equal(m.resolve('docker.io/library/busybox:latest').id, idA);
    assert.equal(m.resolve('busybox', 'docker.io/library/busybox:latest').id, idA);
    assert.equal(m.resolve(idA.slice(7, 11)).id, idA); // 4 hex digits
    assert.equal(m.resolve(`sha256:${idA.slice(7, 19)}`).id, idA);
    // Pulled by index digest: name@digest finds it in the same repository only.
    assert.equal(m.resolve(`docker.io/library/alpine@${dg('index-B')}`).id, dg('B'));
    assert.equal(m.resolve(`docker.io/library/alpine@${image('B').manifestDigest}`).id, dg('B'));
    assert.throws(() => m.resolve(`docker.io/library/busybox@${dg('index-B')}`), { code: 'not-found' });
    assert.throws(() => m.resolve(idA.slice(7, 10)), { code: 'not-found' }); // 3 digits: too short
    assert.throws(() => m.resolve('nosuch:latest'), (e: any) => e.code === 'not-found' && e.message === 'no such image: nosuch:latest');

    // Retag: the name moves, the old image keeps its other names.
    assert.equal(m.tag('docker.io/library/busybox:latest', dg('B')), idA);
    assert.equal(m.tag('docker.io/library/busybox:latest', dg('B')), undefined);
    assert.deepEqual(m.getImage(idA)!.names, []);
    assert.deepEqual(m.namesOf(dg('B')), ['docker.io/library/alpine:3', 'docker.io/library/busybox:latest']);
    assert.deepEqual(m.addImage(image('A'), layers('base'), ['docker.io/library/busybox:latest']).retagged, [
      { name: 'docker.io/library/busybox:latest', previous: dg('B') },
    ]);
    assert.throws(() => m.tag('x:1', dg('nope')), { code: 'not-found' });
    assert.equal(m.untag('docker.io/library/alpine:3'), dg('B'));
    assert.throws(() => m.untag('docker.io/library/alpine:3'), { code: 'not-found' });
    assert.deepEqual(
      m.listImages().map((i) => [i.id, i.names]).sort(),
      [
        [idA, ['docker.io/library/busybox:latest']],
        [dg('B'), []],
      ].sort(),
    );
  });

  test('an ambiguous short id is refused with the candidates', () => {
    using m = new MetadataStore(tempRoot());
    // Find two config names whose ids share the first 4 hex digits.
    const seen = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const p = dg(`c${i}`).slice(7, 11);
      const other = seen.get(p);
      if (other) pair = [other, `c${i}`];
      else seen.set(p, `c${i}`);
    }
    m.addImage(image(pair[0]), []);
    m.addImage(image(pair[1]), []);
    const prefix = dg(pair[0]).slice(7, 11);
    assert.throws(() => m.resolve(prefix), (e: any) => e.code === 'invalid-argument' && new RegExp(`short id "${prefix}" is ambiguous`).test(e.message));
    assert.equal(m.resolve(dg(pair[0]).slice(7, 20)).id, dg(pair[0]));
  });

  test('two processes at once: no lost update, no "database is locked"', async () => {
    const root = tempRoot();
    const N = 60;
    const url = new URL('./metadata.js', import.meta.url).href;
    // Each process adds N images on a shared base layer, moves a shared tag each time,
    // then removes its images again; opening the fresh database races too.
    const script = `
      import { createHash } from 'node:crypto';
      import { existsSync, writeFileSync } from 'node:fs';
      import { MetadataStore } from ${JSON.stringify(url)};
      const dg = (s) => 'sha256:' + createHash('sha256').update(s).digest('hex');
      const [root, who, n] = [process.argv[1], process.argv[2], Number(process.argv[3])];
      const m = new MetadataStore(root);
      const base = dg('base');
      const ids = [];
      for (let i = 0; i < n; i++) {
        const top = dg(who + i);
        const id = dg('config' + who + i);
        m.addImage({ id, manifestDigest: dg('m' + who + i), mediaType: 'x/y' },
          [{ chainId: base, diffId: base, size: 1 }, { chainId: dg(base + ' ' + top), diffId: top, size: 2 }],
          [who + '/img:' + i, 'shared:latest']);
        ids.push(id);
      }
      process.stdout.write(JSON.stringify({ refcount: m.getLayer(base).refcount }) + '\\n');
      // Wait for the other process to have added its images too before removing.
      writeFileSync(root + '/' + who + '.added', '');
      while (!existsSync(root + '/p1.added') || !existsSync(root + '/p2.added')) await new Promise((r) => setTimeout(r, 5));
      const freed = [];
      for (const id of ids) freed.push(...m.removeImage(id));
      process.stdout.write(JSON.stringify({ freed }) + '\\n');
      m.close();`;
    const child = (who: string) => run(process.execPath, ['--input-type=module', '-e', script, root, who, String(N)], { timeout: 60_000 });
    const results = await Promise.all([child('p1'), child('p2')]);
    const freed = results.flatMap((r) => JSON.parse(r.stdout.trim().split('\n')[1]!).freed as string[]);
    for (const r of results) assert.equal(r.stderr, '');
    // Every image's top layer was freed once, and the shared base exactly once, by whichever went last.
    assert.equal(freed.length, 2 * N + 1);
    assert.equal(new Set(freed).size, 2 * N + 1);
    assert.ok(freed.includes(dg('base')));
    using m = new MetadataStore(root);
    assert.deepEqual(m.listImages(), []);
    assert.equal(m.getLayer(dg('base')), undefined);
  });

  test('two processes adding at once: every refcount increment lands', async () => {
    const root = tempRoot();
    const N = 80;
    const url = new URL('./metadata.js', import.meta.url).href;
    const script = `
      import { createHash } from 'node:crypto';
      import { MetadataStore } from ${JSON.stringify(url)};
      const dg = (s) => 'sha256:' + createHash('sha256').update(s).digest('hex');
      const [root, who, n] = [process.argv[1], process.argv[2], Number(process.argv[3])];
      const m = new MetadataStore(root);
      for (let i = 0; i < n; i++) {
        m.addImage({ id: dg('config' + who + i), manifestDigest: dg('m' + who + i), mediaType: 'x/y' },
          [{ chainId: dg('base'), diffId: dg('base') }], ['shared:latest']);
      }
      m.close();`;
    const child = (who: string) => run(process.execPath, ['--input-type=module', '-e', script, root, who, String(N)], { timeout: 60_000 });
    await Promise.all([child('p1'), child('p2'), child('p3')]);
    using m = new MetadataStore(root);
    assert.equal(m.listImages().length, 3 * N);
    assert.equal(m.getLayer(dg('base'))!.refcount, 3 * N);
    assert.equal(m.listImages().filter((i) => i.names.includes('shared:latest')).length, 1);
  });
});

describe('leases', () => {
  test('a leased layer is not freed; once released, the next removal frees it', () => {
    using m = new MetadataStore(tempRoot());
    const ls = layers('base', 'top');
    m.addImage(image('a'), ls);
    const lease = m.newLease();
    m.addToLease(lease, [ls[0]!.chainId]);
    let detached: string[] = [];
    const freed = m.removeImage(image('a').id, (chains) => (detached = chains));
    assert.deepEqual(freed, [ls[1]!.chainId], 'the top layer goes, the leased base stays');
    assert.deepEqual(detached, freed, 'detach sees exactly the freed layers, inside the transaction');
    assert.equal(m.getLayer(ls[0]!.chainId)?.refcount, 0);
    m.releaseLease(lease);
    m.addImage(image('b'), [ls[0]!]);
    assert.deepEqual(m.removeImage(image('b').id), [ls[0]!.chainId]);
  });

  test('a lease of a process that has exited no longer counts', async () => {
    const root = tempRoot();
    using m = new MetadataStore(root);
    const ls = layers('only');
    m.addImage(image('c'), ls);
    const url = new URL('./metadata.js', import.meta.url).href;
    await run(process.execPath, ['--input-type=module', '-e', `import { MetadataStore } from ${JSON.stringify(url)}; const m = new MetadataStore(process.argv[1]); m.addToLease(m.newLease(), [process.argv[2]]); m.close();`, root, ls[0]!.chainId], { timeout: 60_000 });
    assert.equal(m.isLeased(ls[0]!.chainId), false);
    assert.deepEqual(m.removeImage(image('c').id), [ls[0]!.chainId]);
  });
});

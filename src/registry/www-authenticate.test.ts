import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseChallenges } from './www-authenticate.ts';

describe('WWW-Authenticate', () => {
  test('Docker Hub bearer challenge, commas inside a quoted scope', () => {
    const h = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"';
    assert.deepEqual(parseChallenges(h), [
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull,push' },
      },
    ]);
  });

  test('scheme and names are lowercased, values kept; unquoted values; extra whitespace', () => {
    assert.deepEqual(parseChallenges('  BASIC   Realm = "Registry Realm" ,\tCharset=UTF-8  '), [
      { scheme: 'basic', params: { realm: 'Registry Realm', charset: 'UTF-8' } },
    ]);
  });

  test('escaped quotes and backslashes in quoted strings', () => {
    assert.deepEqual(parseChallenges('Basic realm="say \\"hi\\", then \\\\ go"'), [
      { scheme: 'basic', params: { realm: 'say "hi", then \\ go' } },
    ]);
  });

  test('several challenges in one value (RFC 7235 example, and repeated headers joined by fetch)', () => {
    assert.deepEqual(parseChallenges('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'), [
      { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
      { scheme: 'basic', params: { realm: 'simple' } },
    ]);
    assert.deepEqual(parseChallenges('Basic realm="r", Bearer realm="https://a/token",service="s"'), [
      { scheme: 'basic', params: { realm: 'r' } },
      { scheme: 'bearer', params: { realm: 'https://a/token', service: 's' } },
    ]);
  });

  test('token68 forms and schemes without params', () => {
    assert.deepEqual(parseChallenges('Negotiate YIIBhgYGKwYBBQUCoII=, Basic realm="x", NTLM'), [
      { scheme: 'negotiate', params: {}, token68: 'YIIBhgYGKwYBBQUCoII=' },
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'ntlm', params: {} },
    ]);
    assert.deepEqual(parseChallenges('Bearer'), [{ scheme: 'bearer', params: {} }]);
    assert.deepEqual(parseChallenges('Foo abc/+.~_-=='), [{ scheme: 'foo', params: {}, token68: 'abc/+.~_-==' }]);
  });

  test('empty list elements and empty values', () => {
    assert.deepEqual(parseChallenges(', ,Bearer ,, realm="a",, error=,service=""  ,'), [
      { scheme: 'bearer', params: { realm: 'a', error: '', service: '' } },
    ]);
    assert.deepEqual(parseChallenges(''), []);
    assert.deepEqual(parseChallenges('   ,  , '), []);
  });

  test('a missing comma between params or challenges is tolerated', () => {
    assert.deepEqual(parseChallenges('Bearer realm="a" service="b" Basic realm="c"'), [
      { scheme: 'bearer', params: { realm: 'a', service: 'b' } },
      { scheme: 'basic', params: { realm: 'c' } },
    ]);
  });

  test('hostile and malformed input never throws and keeps what it can', () => {
    const cases: Array<[string, unknown]> = [
      ['Bearer realm="unterminated, scope=x', [{ scheme: 'bearer', params: { realm: 'unterminated, scope=x' } }]],
      ['Bearer realm="a\\', [{ scheme: 'bearer', params: { realm: 'a\\' } }]],
      ['realm="orphan", Basic realm="b"', [{ scheme: 'basic', params: { realm: 'b' } }]],
      ['=, ==, "x", Basic', [{ scheme: 'basic', params: {} }]],
      ['Bearer @@@, Basic realm="r"', [{ scheme: 'bearer', params: {} }, { scheme: 'basic', params: { realm: 'r' } }]],
      ['Bearer realm="a", @@@ junk, Basic', [{ scheme: 'bearer', params: { realm: 'a' } }, { scheme: 'basic', params: {} }]],
      ['Bearer realm="a"junk="b"', [{ scheme: 'bearer', params: { realm: 'a', junk: 'b' } }]],
      ['Bearer realm="a";x, service="s"', [{ scheme: 'bearer', params: { realm: 'a', service: 's' } }]],
      ['Bearer realm=a realm=b, REALM="c"', [{ scheme: 'bearer', params: { realm: 'a' } }]],
      // RFC 7235: params follow the scheme after a space; after a comma comes the next challenge.
      ['Basic,realm="x"', [{ scheme: 'basic', params: {} }]],
      ['Basic\u0000realm="x"', [{ scheme: 'basic', params: {} }]],
      ['\u00e9t\u00e9 realm="x"', []],
      ['\u00e9, Basic', [{ scheme: 'basic', params: {} }]],
    ];
    for (const [input, want] of cases) assert.deepEqual(parseChallenges(input), want, input);
    assert.deepEqual(parseChallenges(undefined as unknown as string), []);
    assert.deepEqual(parseChallenges(42 as unknown as string), []);
  });

  test('a param named __proto__ is data, not a prototype', () => {
    const [c] = parseChallenges('Bearer __proto__="x", constructor="y", realm="r"');
    assert.equal(Object.getPrototypeOf(c!.params), Object.prototype);
    assert.equal(Object.hasOwn(c!.params, '__proto__'), true);
    assert.equal(c!.params['__proto__'], 'x');
    assert.equal(c!.params.constructor, 'y');
    assert.equal(c!.params.realm, 'r');
  });

  test('large and random input stays linear and total', () => {
    const big = 'Bearer ' + Array.from({ length: 20000 }, (_, i) => `p${i}="v,${i}"`).join(', ');
    const t0 = Date.now();
    const [c] = parseChallenges(big);
    assert.equal(Object.keys(c!.params).length, 20000);
    assert.equal(c!.params.p19999, 'v,19999');
    assert.ok(Date.now() - t0 < 2000);
    const alphabet = 'aB =,"\\\t;/:@x9';
    let seed = 7;
    for (let n = 0; n < 2000; n++) {
      let s = '';
      for (let i = 0; i < 40; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        s += alphabet[seed % alphabet.length];
      }
      for (const ch of parseChallenges(s)) {
        assert.match(ch.scheme, /^[!#$%&'*+\-.^_`|~0-9a-z]+$/, s);
        assert.equal(typeof ch.params, 'object');
      }
    }
  });
});

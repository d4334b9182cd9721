import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HakoError } from '../common/errors.ts';
import { compileFormat } from './docker-args.ts';
import { parseGoTemplate } from './go-template.ts';

// The shape of `inspect` output these cases run on (what Docker's API returns).
const INSPECT = {
  Name: '/web',
  RestartCount: 2,
  State: { Status: 'running', Running: true, Paused: false, Pid: 4242, ExitCode: 0, Health: null },
  Config: { Labels: { lab: 'one', 'com.x.y': 'dotted' }, Cmd: ['sleep', '100'], Env: [] as string[], Entrypoint: null },
  Mounts: [
    { Type: 'volume', Destination: '/anon-t', RW: true },
    { Type: 'bind', Destination: '/data', RW: false },
  ],
  HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 }, Binds: null },
  NetworkSettings: { Ports: {}, Networks: { bridge: { IPAddress: '172.17.0.2' } } },
  Ratio: 0.25,
};

const run = (tpl: string, data: unknown = INSPECT) => parseGoTemplate(tpl).execute(data);
const cases = (list: [string, string][], data: unknown = INSPECT) => {
  for (const [tpl, want] of list) assert.equal(run(tpl, data), want, tpl);
};
const fails = (tpl: string, message: string | RegExp, data: unknown = INSPECT) =>
  assert.throws(
    () => run(tpl, data),
    (e: unknown) => {
      assert.ok(e instanceof HakoError, String(e));
      assert.equal(e.code, 'invalid-argument');
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    },
  );

describe('go-template: what the engine tests use', () => {
  test('index, a parenthesised call with a field, range, if/else', () => {
    cases([
      ['{{index .Config.Labels "lab"}}', 'one'],
      ['{{(index .Mounts 0).Destination}}', '/anon-t'],
      ['{{range .Mounts}}{{.Destination}} {{end}}', '/anon-t /data '],
      ['{{if .State.Running}}up{{else}}down{{end}}', 'up'],
      ['{{if .State.Paused}}paused{{else}}not{{end}}', 'not'],
      ['{{.Name}} {{.State.Running}} {{json .Config.Cmd}}', '/web true ["sleep","100"]'],
      ['{{.Config.Labels.lab}} {{json .HostConfig.RestartPolicy}}', 'one {"Name":"on-failure","MaximumRetryCount":3}'],
    ]);
  });
});

describe('go-template: values print as Go prints them', () => {
  test('scalars, lists, maps (sorted keys), nil and missing keys', () => {
    cases([
      ['{{.RestartCount}}', '2'],
      ['{{.Ratio}}', '0.25'],
      ['{{.State.Running}} {{.State.Paused}}', 'true false'],
      ['{{.Config.Cmd}}', '[sleep 100]'],
      ['{{.Config.Env}}', '[]'],
      ['{{.NetworkSettings.Ports}}', 'map[]'],
      ['{{.Config.Labels}}', 'map[com.x.y:dotted lab:one]'],
      ['{{.HostConfig.RestartPolicy}}', 'map[MaximumRetryCount:3 Name:on-failure]'],
      ['{{.State.Health}}', '<nil>'],
      ['{{.Nope}}', '<no value>'],
      ['{{.Nope.Deeper}}', '<no value>'],
      ['{{.Config.Labels.missing}}', '<no value>'],
    ]);
    assert.equal(run('{{.}}', { a: 1 }), 'map[a:1]');
    assert.equal(run('{{.}}', 'plain'), 'plain');
    assert.equal(run('{{.big}} {{.float}} {{.small}}', { big: 123456789012, float: 1234567.5, small: 0.00001 }), '123456789012 1.2345675e+06 1e-05');
  });

  test('literals', () => {
    cases([
      ['{{"a\\tb"}}|{{`raw\\n`}}', 'a\tb|raw\\n'],
      ["{{'a'}} {{0x1F}} {{0o17}} {{017}} {{1_000}} {{-3}} {{+4}} {{1.5}}", '97 31 15 15 1000 -3 4 1.5'],
      ['{{true}} {{false}}', 'true false'],
      ['{{"\\u00e9\\x41"}}', 'éA'],
    ]);
  });
});

describe('go-template: actions', () => {
  test('text, trim markers and comments', () => {
    cases([
      ['a  {{- .Name -}}  \n b', 'a/webb'],
      ['a {{- /* gone */ -}} b', 'ab'],
      ['{{/* only a comment */}}x', 'x'],
      ['{{-3}}', '-3'],
      ['x {{.RestartCount -}}\n\n', 'x 2'],
    ]);
  });

  test('if, else if, else, with, and their variables', () => {
    cases([
      ['{{if eq .State.Status "exited"}}E{{else if eq .State.Status "running"}}R{{else}}?{{end}}', 'R'],
      ['{{if .Config.Env}}env{{else}}no env{{end}}', 'no env'],
      ['{{if .Config.Entrypoint}}ep{{else}}no ep{{end}}', 'no ep'],
      ['{{if .State.ExitCode}}fail{{else}}ok{{end}}', 'ok'],
      ['{{if ""}}a{{else}}b{{end}}{{if "x"}}c{{end}}', 'bc'],
      ['{{with .HostConfig.RestartPolicy}}{{.Name}}:{{.MaximumRetryCount}}{{end}}', 'on-failure:3'],
      ['{{with .Nope}}yes{{else}}no{{end}}', 'no'],
      ['{{with .Nope}}a{{else with .Name}}{{.}}{{end}}', '/web'],
      ['{{with $p := .HostConfig.RestartPolicy}}{{$p.Name}} {{$.Name}}{{end}}', 'on-failure /web'],
      ['{{if $n := .RestartCount}}{{$n}}{{end}}', '2'],
    ]);
  });

  test('range over lists, maps (sorted), numbers, with else, break and continue', () => {
    cases([
      ['{{range $i, $m := .Mounts}}{{$i}}={{$m.Destination}} {{end}}', '0=/anon-t 1=/data '],
      ['{{range $m := .Mounts}}{{$m.Type}},{{end}}', 'volume,bind,'],
      ['{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', 'com.x.y=dotted;lab=one;'],
      ['{{range .Config.Labels}}{{.}} {{end}}', 'dotted one '],
      ['{{range .Config.Env}}x{{else}}empty{{end}}', 'empty'],
      ['{{range .Config.Entrypoint}}x{{else}}nil{{end}}', 'nil'],
      ['{{range .Nope}}x{{else}}missing{{end}}', 'missing'],
      ['{{range 3}}{{.}}{{end}}', '012'],
      ['{{range .Mounts}}{{if not .RW}}{{break}}{{end}}{{.Destination}}{{end}}', '/anon-t'],
      ['{{range .Mounts}}{{if .RW}}{{continue}}{{end}}{{.Destination}}{{end}}', '/data'],
      ['{{range .Mounts}}{{$.Name}}{{end}}', '/web/web'],
      ['{{$n := 0}}{{range .Mounts}}{{$n = .Destination}}{{end}}{{$n}}', '/data'],
      ['{{range .Mounts}}{{$d := .Destination}}{{$d}}{{end}}', '/anon-t/data'],
    ]);
  });

  test('variables, pipelines and parentheses', () => {
    cases([
      ['{{$x := .Name}}{{$x}}', '/web'],
      ['{{$x := 1}}{{$x = 2}}{{$x}}', '2'],
      ['{{$}}', String(run('{{.}}'))],
      ['{{.Name | printf "%s!"}}', '/web!'],
      ['{{.Config.Cmd | len}}', '2'],
      ['{{split "a,b" "," | len}}', '2'],
      ['{{"," | join .Config.Cmd}}', 'sleep,100'],
      ['{{(index .Mounts 1).Destination | upper}}', '/DATA'],
      ['{{len (index .Config.Labels "lab")}}', '3'],
      ['{{index (index .Mounts 0) "Type"}}', 'volume'],
      ['{{(.HostConfig).RestartPolicy.Name}}', 'on-failure'],
      ['{{.NetworkSettings.Networks.bridge.IPAddress}}', '172.17.0.2'],
      ['{{range $n, $c := .NetworkSettings.Networks}}{{$n}} {{$c.IPAddress}}{{end}}', 'bridge 172.17.0.2'],
    ]);
  });
});

describe('go-template: functions', () => {
  test('index, len, slice', () => {
    cases([
      ['{{index .Config.Cmd 1}}', '100'],
      ['{{index .NetworkSettings.Networks "bridge" "IPAddress"}}', '172.17.0.2'],
      ['{{index .Config.Labels "com.x.y"}}', 'dotted'],
      // A missing label is "" as Docker's map[string]string; a missing key elsewhere is no value.
      ['[{{index .Config.Labels "missing"}}]', '[]'],
      ['{{index .NetworkSettings.Networks "host"}}', '<no value>'],
      ['{{index "abc" 1}}', '98'],
      ['{{len .Mounts}} {{len .Config.Labels}} {{len "héllo"}} {{len .Config.Entrypoint}}', '2 2 6 0'],
      ['{{slice .Config.Cmd 1}} {{slice "abcdef" 1 3}}', '[100] bc'],
    ]);
  });

  test('comparisons and logic', () => {
    cases([
      ['{{eq .State.Status "running"}} {{eq .RestartCount 1 2}} {{ne .Name "/web"}}', 'true true false'],
      ['{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}', 'true true true false'],
      ['{{eq .State.Health nil}} {{eq .Nope "x"}}', 'true false'],
      ['{{and 1 "x"}} {{and 0 .Nope.X}} {{or "" 0}} {{or .Nope "dflt"}}', 'x 0 0 dflt'],
      ['{{not .State.Running}} {{not .Config.Env}}', 'false true'],
      ['{{if and .State.Running (eq .RestartCount 2)}}yes{{end}}', 'yes'],
      // and/or stop at the deciding argument: the index error after it never happens.
      ['{{or .Name (index .Mounts 9)}}', '/web'],
    ]);
  });

  test('print, println, printf', () => {
    cases([
      ['{{print "a" 1 2 "b" true}}', 'a1 2btrue'],
      ['{{println "a" 1}}', 'a 1\n'],
      ['{{printf "%s=%d %v %q %t" "k" 42 .Config.Cmd "q\\"" true}}', 'k=42 [sleep 100] "q\\"" true'],
      ['{{printf "%5s|%-5s|%05d|%x|%.2f|%3.1f" "r" "l" 42 255 3.14159 2.0}}', '    r|l    |00042|ff|3.14|2.0'],
      ['{{printf "%d" "s"}} {{printf "%s"}} {{printf "%s" "a" "b"}}', '%!d(string=s) %!s(MISSING) a%!(EXTRA string=b)'],
      ['{{printf "%v %s" .Config.Labels .State.Health}}', 'map[com.x.y:dotted lab:one] %!s(<nil>)'],
      ['{{printf "%[2]s-%[1]s" "a" "b"}} {{printf "100%%"}}', 'b-a 100%'],
    ]);
  });

  test("Docker's json, join, split, upper, lower, title, pad, truncate", () => {
    cases([
      ['{{json .Config.Labels}}', '{"lab":"one","com.x.y":"dotted"}'],
      ['{{json .Nope}} {{json .State.Health}} {{json "<&>"}}', 'null null "<&>"'],
      ['{{join .Config.Cmd ","}} {{join .Config.Entrypoint ","}}|', 'sleep,100 |'],
      ['{{split "a:b:c" ":"}} {{len (split "a:b" ":")}} {{index (split "k=v" "=") 1}}', '[a b c] 2 v'],
      ['{{upper "abc"}} {{lower "ABC"}} {{title "hello wide-world"}}', 'ABC abc Hello Wide-World'],
      ['[{{pad "x" 1 2}}][{{pad "" 1 2}}]', '[ x  ][]'],
      ['{{truncate "abcdef" 3}} {{truncate "ab" 3}}', 'abc ab'],
    ]);
  });
});

describe('go-template: errors read as Docker prints them', () => {
  test('parse errors', () => {
    fails('{{.Name', 'template parsing error: template: :1: unclosed action');
    fails('{{nope .Name}}', 'template parsing error: template: :1: function "nope" not defined');
    fails('{{if .A}}x', 'template parsing error: template: :1: unexpected EOF');
    fails('x{{end}}', 'template parsing error: template: :1: unexpected {{end}}');
    fails('{{else}}', 'template parsing error: template: :1: unexpected {{else}}');
    fails('{{if}}{{end}}', 'template parsing error: template: :1: missing value for if');
    fails('{{$x}}', 'template parsing error: template: :1: undefined variable "$x"');
    fails('{{range .A}}{{end}}{{break}}', 'template parsing error: template: :1: {{break}} outside {{range}}');
    fails('{{"abc}}', 'template parsing error: template: :1: unterminated quoted string');
    fails('{{(.A}}', 'template parsing error: template: :1: unclosed left paren');
    fails('{{.A)}}', 'template parsing error: template: :1: unexpected right paren');
    fails('{{.A}}\n{{.B ,}}', 'template parsing error: template: :2: unexpected "," in operand');
    fails('{{/* open', 'template parsing error: template: :1: unclosed comment');
    fails('{{.A | 3}}', 'template parsing error: template: :1: non executable command in pipeline stage 2');
  });

  test('execution errors', () => {
    fails('{{index .Mounts 5}}', 'template parsing error: template: :1:2: executing "" at <index .Mounts 5>: error calling index: index out of range: 5');
    fails('x {{.State.Health.Status}}', 'template parsing error: template: :1:4: executing "" at <.State.Health.Status>: nil pointer evaluating interface {}.Status');
    fails('{{.Name.First}}', 'template parsing error: template: :1:2: executing "" at <.Name.First>: can\'t evaluate field First in type string');
    fails('{{eq 1 "a"}}', /error calling eq: incompatible types for comparison$/);
    fails('{{len 3}}', /error calling len: len of type int$/);
    fails('{{upper 3}}', /at <3>: wrong type for value; expected string; got int$/);
    fails('{{index}}', /at <index>: wrong number of args for index: want at least 1 got 0$/);
    fails('{{.Name 1}}', /can't give argument to non-function|is not a method but has arguments/);
    fails('{{range .Name}}{{end}}', /range can't iterate over \/web$/);
    fails('a\nb {{nil}}', 'template parsing error: template: :2:4: executing "" at <nil>: nil is not a command');
  });
});

describe('compileFormat', () => {
  test('json, escapes, and the table header from the field names', () => {
    assert.equal(compileFormat('json').render({ a: 1 }), '{"a":1}');
    assert.equal(compileFormat('{{.A}}\\t{{.B}}').render({ A: 1, B: 2 }), '1\t2');
    const t = compileFormat('table {{.ID}}\\t{{.Repository}}:{{.Tag}}\\t{{json .CreatedSince}}\\t{{upper .Size}}');
    assert.equal(t.header, 'IMAGE ID\tREPOSITORY:TAG\tCREATED\tSIZE');
    assert.equal(t.render({ ID: 'abc', Repository: 'busybox', Tag: 'latest', CreatedSince: '2 days ago', Size: '4MB' }), 'abc\tbusybox:latest\t"2 days ago"\t4MB');
    assert.equal(compileFormat('table {{.Config.Labels}}').header, 'CONFIG.LABELS');
    assert.equal(compileFormat('table {{if .Names}}{{.Names}}{{end}}').header, 'NAMES');
    assert.equal(compileFormat('{{.A}}').header, undefined);
  });

  test('a malformed format is an invalid-argument error', () => {
    assert.throws(() => compileFormat('{{.A'), (e: unknown) => e instanceof HakoError && e.code === 'invalid-argument' && e.message === 'template parsing error: template: :1: unclosed action');
  });
});

// Preloaded into a hako CLI by bench/profile.mjs (NODE_OPTIONS=--import this file):
// records when Node's bootstrap completed, how many of hako's ES modules were loaded and
// between which times, when the native helpers were spawned and exited, the fsyncs,
// and the process exit. Writes one JSON line to the file named by HAKO_TIMELINE_OUT.
// Times are ms since the process started (performance.now()).
import { appendFileSync, writeSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const out = process.env.HAKO_TIMELINE_OUT;
const require = createRequire(import.meta.url);
const cp = require('node:child_process');
const fs = require('node:fs');
const marks = [];
const seen = new Map();
/** A named moment; a name seen before gets " #2", " #3", … */
const mark = (what) => {
  const k = (seen.get(what) ?? 0) + 1;
  seen.set(what, k);
  marks.push([k > 1 ? `${what} #${k}` : what, Math.round(performance.now() * 100) / 100]);
};
mark('preload');
const mods = { n: 0, first: undefined, last: undefined, builtins: [] };
module.registerHooks({
  load(url, ctx, next) {
    const t = performance.now();
    const r = next(url, ctx);
    if (url.startsWith('file:') && !url.endsWith('timeline-hook.mjs')) {
      mods.n++;
      mods.first ??= t;
      mods.last = performance.now();
    }
    return r;
  },
});
const spawn = cp.spawn;
cp.spawn = function (file, ...rest) {
  const name = String(file).split('/').pop();
  mark(`spawn ${name}`);
  const child = spawn.call(this, file, ...rest);
  child.once('exit', () => mark(`exit ${name}`));
  return child;
};
const fsyncSync = fs.fsyncSync;
let fsyncs = 0;
let fsyncMs = 0;
fs.fsyncSync = function (...a) {
  const t = performance.now();
  try {
    return fsyncSync.apply(this, a);
  } finally {
    fsyncs++;
    fsyncMs += performance.now() - t;
  }
};
module.syncBuiltinESMExports();
process.on('exit', () => {
  mark('exit');
  const line = JSON.stringify({
    bootstrap: performance.nodeTiming.bootstrapComplete,
    modules: mods.n,
    modulesFirst: mods.first,
    modulesLast: mods.last,
    fsyncs,
    fsyncMs,
    marks,
  });
  if (out) appendFileSync(out, `${line}\n`);
  else writeSync(2, `${line}\n`);
});

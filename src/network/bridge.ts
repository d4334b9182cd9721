import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { HakoError } from '../common/errors.ts';

const run = promisify(execFile);

/**
 * What CNI leaves behind when a network goes: its bridge (the bridge plugin never
 * deletes it) and the firewall plugin's isolation rules naming it.
 */
export async function deleteBridge(name: string): Promise<void> {
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(name)) throw new HakoError('invalid-argument', `bad bridge name ${JSON.stringify(name)}`);
  if (existsSync(`/sys/class/net/${name}`)) {
    try {
      await run('ip', ['link', 'delete', name, 'type', 'bridge']);
    } catch (err) {
      if (existsSync(`/sys/class/net/${name}`)) throw new HakoError('system', `delete bridge ${name}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
    }
  }
  await deleteRulesMatching((args) => args.some((a, i) => (a === '-i' || a === '-o') && args[i + 1] === name));
}

/** Deletes the iptables and ip6tables rules (every table) for which MATCH is true. */
export async function deleteRulesMatching(match: (args: string[]) => boolean): Promise<number> {
  let n = 0;
  for (const tool of ['iptables', 'ip6tables']) n += await deleteFamilyRules(tool, match);
  return n;
}

async function deleteFamilyRules(tool: string, match: (args: string[]) => boolean): Promise<number> {
  let dump: string;
  try {
    dump = (await run(`${tool}-save`, [], { maxBuffer: 64 << 20 })).stdout;
  } catch {
    return 0; // no such tool: nothing was written with it either
  }
  let table = 'filter';
  let n = 0;
  const chains: [string, string][] = [];
  for (const line of dump.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    if (!line.startsWith('-A ')) continue;
    const args = splitRule(line);
    if (!match(args)) continue;
    try {
      await run(tool, ['-w', '-t', table, '-D', ...args.slice(1)]);
      n++;
      // A per-container chain the rule jumped to (the bridge plugin's CNI-<hash>) goes too.
      const target = args[args.indexOf('-j') + 1];
      if (args.includes('-j') && target && /^CNI-[0-9a-f]{16,}$/.test(target)) chains.push([table, target]);
    } catch {
      // gone already (a concurrent cleanup)
    }
  }
  for (const [t, chain] of chains) {
    await run(tool, ['-w', '-t', t, '-F', chain]).catch(() => {});
    await run(tool, ['-w', '-t', t, '-X', chain]).catch(() => {});
  }
  return n;
}

/** iptables-save's quoting: words, and "…" with \" inside. */
export function splitRule(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    let word = '';
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        word += line[i++];
      }
      i++;
    } else {
      while (i < line.length && line[i] !== ' ') word += line[i++];
    }
    out.push(word);
  }
  return out;
}

import { writeCg } from '../files.ts';

const F = 'linux.resources.network';

export function applyNetClassId(dir: string, classID: number): void {
  writeCg(dir, 'net_cls.classid', String(classID), `${F}.classID`);
}

export function applyNetPriorities(dir: string, prios: readonly { name: string; priority: number }[]): void {
  prios.forEach((p, i) => writeCg(dir, 'net_prio.ifpriomap', `${p.name} ${p.priority}`, `${F}.priorities[${i}]`));
}

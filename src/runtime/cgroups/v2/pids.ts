// pids.max and pids.current are the same files in cgroup v2.
export { applyPids, pidsStats } from '../v1/pids.ts';

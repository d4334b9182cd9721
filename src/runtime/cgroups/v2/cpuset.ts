// cpuset.cpus and cpuset.mems are the same files in cgroup v2 (with the cpuset controller enabled).
export { applyCpuset, cpusetStats } from '../v1/cpuset.ts';

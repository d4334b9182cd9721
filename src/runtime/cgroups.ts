// The cgroup code lives in ./cgroups/ (one file per controller and version); this shim
// keeps the import path the rest of the runtime uses.
export * from './cgroups/index.ts';

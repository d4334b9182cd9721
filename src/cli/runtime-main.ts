import { enableCompileCache } from 'node:module';

// hako-runtime: the runtime alone, as a runc-compatible executable for other engines.
enableCompileCache();
process.exit(await (await import('./runtime/index.ts')).main(process.argv.slice(2), 'hako-runtime'));

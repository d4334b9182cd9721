import { join } from 'node:path';

/** The checkout (or install) root: this file is <root>/dist/src/runtime/paths.js. */
export const HAKO_HOME = join(import.meta.dirname, '..', '..', '..');
export const EXECUTOR_PATH = process.env['HAKO_EXECUTOR'] ?? join(HAKO_HOME, 'native', 'build', 'hako-exec');

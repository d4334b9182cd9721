import { join } from 'node:path';
import { HAKO_HOME } from '../../runtime/paths.ts';

export const MONITOR_PATH = process.env['HAKO_MONITOR'] ?? join(HAKO_HOME, 'native', 'build', 'hako-monitor');
export const INIT_PATH = join(HAKO_HOME, 'native', 'build', 'hako-init');
/** the CLI, for the monitor's relaunch, cleanup and health-check commands */
export const HAKO_BIN = join(HAKO_HOME, 'bin', 'hako');

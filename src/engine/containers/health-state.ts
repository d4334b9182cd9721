import { readFileSync } from 'node:fs';

export interface HealthLog {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** Docker's State.Health. */
export interface Health {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: HealthLog[];
}

export function readHealth(file: string): Health {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Health;
  } catch {
    return { Status: 'starting', FailingStreak: 0, Log: [] };
  }
}

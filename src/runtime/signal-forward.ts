const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

/** Passes the signals a foreground runtime receives on to pid; returns the undo. */
export function forwardSignals(pid: number): () => void {
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // it has just exited
    }
  };
  for (const sig of FORWARDED) process.on(sig, forward);
  return () => {
    for (const sig of FORWARDED) process.off(sig, forward);
  };
}

/** What a shell reports for an exit status. */
export function exitCode(status: { code?: number | undefined; signal?: number | undefined }): number {
  return status.signal !== undefined ? 128 + status.signal : (status.code ?? 1);
}

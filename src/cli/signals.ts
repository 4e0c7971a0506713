// Graceful stop: the first SIGINT/SIGTERM stops new work and gives in-flight requests a grace period;
// a second one (or the end of the grace period) aborts them at once.

export interface StopControl {
  /** Aborted on the first signal: start nothing new. */
  readonly soft: AbortSignal;
  /** Aborted on the second signal or when the grace period ends: cut in-flight requests. */
  readonly hard: AbortSignal;
  /** The exit code the signal asks for (130 SIGINT, 143 SIGTERM), or undefined when none came. */
  exitCode(): number | undefined;
  dispose(): void;
}

export interface StopOptions {
  /** Grace period for in-flight requests after the first signal. @default 30000 */
  graceMs?: number;
  /** Told what is happening, for the display. */
  notify?: (message: string) => void;
  /** Called after the second signal if the process has not exited 2 s later. */
  forceExit?: (code: number) => void;
}

export function installStopHandlers(options: StopOptions = {}): StopControl {
  const graceMs = options.graceMs ?? 30_000;
  const soft = new AbortController();
  const hard = new AbortController();
  let code: number | undefined;
  let grace: NodeJS.Timeout | undefined;

  const onSignal = (signal: NodeJS.Signals) => {
    if (!soft.signal.aborted) {
      code = signal === 'SIGTERM' ? 143 : 130;
      soft.abort(new Error(`stopped by ${signal}`));
      options.notify?.(
        `${signal}: starting no new requests; waiting up to ${Math.round(graceMs / 1000)} s for those in flight. Press Ctrl-C again to abort them now.`,
      );
      grace = setTimeout(() => hard.abort(new Error('grace period over')), graceMs);
      grace.unref();
      return;
    }
    hard.abort(new Error(`stopped by a second ${signal}`));
    options.notify?.(`${signal} again: aborting in-flight requests.`);
    const force = setTimeout(() => (options.forceExit ?? process.exit)(code ?? 130), 2000);
    force.unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    soft: soft.signal,
    hard: hard.signal,
    exitCode: () => code,
    dispose: () => {
      if (grace) clearTimeout(grace);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

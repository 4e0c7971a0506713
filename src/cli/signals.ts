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
  /** Told what is happening, for the display. @default undefined */
  notify?: (message: string) => void;
  /** Called after the second signal if the process has not exited 2 s later. @default process.exit */
  forceExit?: (code: number) => void;
}

/** After a second signal the process is gone within this, whatever still runs. */
const FORCE_EXIT_MS = 2000;

/** "30 s", "0.5 s": the grace period as the user typed it, not rounded away. */
const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`;

export function installStopHandlers(options: StopOptions = {}): StopControl {
  const graceMs = options.graceMs ?? 30_000;
  const soft = new AbortController();
  const hard = new AbortController();
  let code: number | undefined;
  let grace: NodeJS.Timeout | undefined;
  let force: NodeJS.Timeout | undefined;

  // Cuts in-flight requests; the run should then end on its own well within FORCE_EXIT_MS, and the timer is the
  // promise to the user that it does, so dispose() leaves it armed (unref'd: it never keeps the process alive).
  const abortNow = (reason: string, message: string) => {
    if (force) return;
    hard.abort(new Error(reason));
    options.notify?.(message);
    force = setTimeout(() => (options.forceExit ?? process.exit)(code ?? 130), FORCE_EXIT_MS);
    force.unref();
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (!soft.signal.aborted) {
      code = signal === 'SIGTERM' ? 143 : 130;
      // The reason names the signal: the run summary reports it as what stopped the run.
      soft.abort(new Error(signal));
      options.notify?.(
        `${signal}: starting no new requests; waiting up to ${seconds(graceMs)} for those in flight. Press Ctrl-C again to abort them now.`,
      );
      grace = setTimeout(() => abortNow(`${signal}, grace period over`, `grace period of ${seconds(graceMs)} over: aborting in-flight requests.`), graceMs);
      grace.unref();
      return;
    }
    abortNow(`${signal} twice`, `${signal} again: aborting in-flight requests.`);
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

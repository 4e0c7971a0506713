export const EXIT = {
  ok: 0,
  someFailed: 1,
  usage: 2,
  runStopped: 3,
  sigint: 130,
  sigterm: 143,
} as const;

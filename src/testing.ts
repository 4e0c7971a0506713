// 'imagebatch/testing': helpers for testing code that uses imagebatch, kept out of the main entry. Run against
// the emulator ('imagebatch/emulator') on virtual time and seeded randomness, as this package's own tests do.
export { FakeClock, systemClock, flushMicrotasks } from './internal/clock.ts';
export type { Clock } from './internal/clock.ts';
export { seededRandom } from './internal/random.ts';

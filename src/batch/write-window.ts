// How many answers a batch fetch writes at once: at most `limit`, and no more decoded bytes than `budget` unless
// nothing is in flight (an answer larger than the budget still goes, alone).
export class WriteWindow {
  private count = 0;
  private held = 0;

  constructor(
    private readonly limit: number,
    private readonly budget: number,
  ) {}

  /** May a write holding `bytes` start now? */
  canStart(bytes: number): boolean {
    if (this.count === 0) return true;
    return this.count < this.limit && this.held + bytes <= this.budget;
  }

  start(bytes: number): void {
    this.count++;
    this.held += bytes;
  }

  end(bytes: number): void {
    this.count--;
    this.held -= bytes;
  }
}

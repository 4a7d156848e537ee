// The two deadlines of one attempt: the first token (dropped at the commit point) and the stall between events.
// One timer per attempt: deadlines only ever move later (events push the stall deadline, the commit drops the
// first-token one), so a timer that fires early just re-arms; no timer churn on every stream event.

export interface AttemptTimeouts {
  /** 0/undefined = off. Not applied to the last candidate. */
  firstTokenMs?: number;
  stallMs?: number;
}

export type TimeoutReason = "first-token" | "stall";

export class AttemptWatchdog {
  private readonly startedAt: number;
  private lastEventAt: number;
  private committed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  /** Which deadline passed, once one has. */
  tripped: TimeoutReason | undefined;

  constructor(
    private readonly timeouts: AttemptTimeouts,
    private readonly now: () => number,
    private readonly onTrip: (reason: TimeoutReason) => void,
  ) {
    this.startedAt = this.lastEventAt = now();
  }

  /** An event arrived: the stall deadline moves (the timer re-arms lazily when it fires). */
  touch(): void {
    this.lastEventAt = this.now();
  }

  /** The commit point: only the stall deadline remains. */
  commit(): void {
    this.committed = true;
    this.arm();
  }

  arm(): void {
    const next = this.nextDeadline();
    if (!next || this.tripped) return;
    if (this.timer && this.timerAt <= next[0]) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next[0];
    this.timer = setTimeout(this.fire, Math.max(0, next[0] - this.now()));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private nextDeadline(): [number, TimeoutReason] | undefined {
    const { firstTokenMs, stallMs } = this.timeouts;
    const firstToken = !this.committed && firstTokenMs ? this.startedAt + firstTokenMs : Number.POSITIVE_INFINITY;
    const stall = stallMs ? this.lastEventAt + stallMs : Number.POSITIVE_INFINITY;
    if (firstToken === Number.POSITIVE_INFINITY && stall === Number.POSITIVE_INFINITY) return undefined;
    return firstToken <= stall ? [firstToken, "first-token"] : [stall, "stall"];
  }

  private readonly fire = () => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const next = this.nextDeadline();
    if (!next || this.tripped) return;
    if (this.now() >= next[0]) {
      this.tripped = next[1];
      this.onTrip(next[1]);
    } else this.arm();
  };
}

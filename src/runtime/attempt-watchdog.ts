// The two deadlines of one attempt: the first token (dropped at the commit point, or once thinking begins) and the
// stall between events, longer inside a thinking block: pi-ai passes no keep-alive pings on, so thinking whose text
// does not come (a redacted block, reasoning whose summary comes only at its end) is silent until it ends.
// One timer per attempt: deadlines only ever move later (events push the stall deadline, the commit drops the
// first-token one), so a timer that fires early just re-arms; no timer churn on every stream event.

export interface AttemptTimeouts {
  /** 0/undefined = off. Not applied to the last candidate. */
  firstTokenMs?: number;
  stallMs?: number;
  /** The stall deadline inside a thinking block, when longer than stallMs. */
  thinkingStallMs?: number;
}

/** The stall deadline that applies: inside a thinking block the longer of the two (stallMs 0 = off stays off). */
export function stallLimitMs(timeouts: AttemptTimeouts, inThinking: boolean): number | undefined {
  const { stallMs, thinkingStallMs } = timeouts;
  return stallMs && inThinking && thinkingStallMs && thinkingStallMs > stallMs ? thinkingStallMs : stallMs;
}

export type TimeoutReason = "first-token" | "stall";

export class AttemptWatchdog {
  private readonly startedAt: number;
  private lastEventAt: number;
  private committed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  /** Inside a thinking block (see stallLimitMs). */
  inThinking = false;
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
    if (next === Number.POSITIVE_INFINITY || this.tripped) return;
    if (this.timer && this.timerAt <= next) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(this.fire, Math.max(0, next - this.now()));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The first-token deadline, while it applies (infinite otherwise). */
  private firstTokenDeadline(): number {
    const { firstTokenMs } = this.timeouts;
    return !this.committed && firstTokenMs ? this.startedAt + firstTokenMs : Number.POSITIVE_INFINITY;
  }

  /** The earlier of the two deadlines; infinite when neither applies. Called on every event, so it allocates nothing. */
  private nextDeadline(): number {
    const stallMs = stallLimitMs(this.timeouts, this.inThinking);
    return Math.min(this.firstTokenDeadline(), stallMs ? this.lastEventAt + stallMs : Number.POSITIVE_INFINITY);
  }

  private readonly fire = () => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const next = this.nextDeadline();
    if (next === Number.POSITIVE_INFINITY || this.tripped) return;
    if (this.now() >= next) {
      const reason: TimeoutReason = this.firstTokenDeadline() <= next ? "first-token" : "stall";
      this.tripped = reason;
      this.onTrip(reason);
    } else this.arm();
  };
}

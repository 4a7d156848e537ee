// The footer status of an active auto-router model. Short enough for an 80-column terminal, and only shown while an
// auto-router model is selected (index.ts clears it on model_select).
import type { Candidate, Decision } from "../routing/types.ts";
import type { RequestOutcome, StatusSink } from "../runtime/request-environment.ts";
import { waitSeconds } from "../runtime/wait-for-reset.ts";
import { plural } from "../analytics/text-format.ts";

export const STATUS_KEY = "auto-router";
export const STATUS_MAX_CHARS = 78;
/** How the last request ended when no answer came: an outcome, shown whole or not at all (`no…` says nothing). */
const NO_TARGET_SERVED = "no target served";
const ABORTED = "aborted";
const ENDED_PHASES: ReadonlySet<string> = new Set([NO_TARGET_SERVED, ABORTED]);

export interface StatusView {
  /** The route selected in pi (auto-router/<route>). */
  routeId?: string;
  /** The route whose targets the last request used, when a tier (`@reasoning`, a rule, the intent) moved it there. */
  servingRouteId?: string;
  tier?: string;
  /** Where the tier came from: only a typed shortcut is shown as `@tier`. */
  tierSource?: "shortcut" | "rule" | "intent" | "none";
  intent?: string;
  confidence?: number;
  phase?: string;
  servedKey?: string;
  /** The served target's answer broke off after it started (after the commit point), so the request failed. */
  cutOff?: boolean;
  failovers?: number;
  warnings: string[];
  /** Modes that change how routing behaves (shadow, UVI hard), shown right after the route so they stay visible. */
  marks?: string[];
}

/** The tier as the user should read it: `@fast` only when they typed it, otherwise what chose it. */
function tierText(view: StatusView): string | undefined {
  if (!view.tier) return undefined;
  if (view.tierSource === "shortcut") return `@${view.tier}`;
  return `tier ${view.tier} (${view.tierSource === "rule" ? "rule" : "intent"})`;
}

/**
 * Segments in order of importance: the route, then warnings (a budget fallback or an open breaker must never be the
 * part that is cut off), then what is happening or who served, then the tier and the intent guess. When the line is
 * too long, the least important segments are dropped first; a part is shown whole or not at all, never cut in a word.
 */
export function formatStatus(view: StatusView, maxChars = STATUS_MAX_CHARS): string {
  const route = view.routeId ?? "auto-router";
  const serving = view.servingRouteId && view.servingRouteId !== route ? ` -> ${view.servingRouteId}` : "";
  const marks = view.marks ?? [];
  // A route id too long to leave room for the marks and a warning count is shortened itself (a narrow terminal, a
  // long id): the marks say how routing behaves now, and a warning must never go unmentioned.
  const after = [...marks, ...(view.warnings.length ? [`⚠ ${view.warnings.length}`] : [])];
  const routeRoom = maxChars - after.reduce((room, part) => room + part.length + 3, 0);
  const head = [shortenEnd(`⇄ ${route}${serving}`, routeRoom), ...marks];
  const activity =
    view.phase ??
    (view.servedKey
      ? `→ ${view.servedKey}${view.cutOff ? " cut off" : ""}${view.failovers ? ` (${plural(view.failovers, "failover")})` : ""}`
      : undefined);
  const fits = (parts: string[]) => parts.join(" · ").length <= maxChars;
  let parts = [...head, ...(activity ? [activity] : [])];
  if (view.warnings.length) {
    // The warnings get the room the activity leaves them; when they do not all fit there but would without it, the
    // activity goes (a warning is never folded to keep it); when not one fits beside it, the activity goes too, and
    // when not one fits even then, they are counted, beside the activity again if it fits.
    const roomBeside = (kept: string[]) => maxChars - [...kept, ""].join(" · ").length;
    let warnings = warningsText(view.warnings, roomBeside(parts));
    const every = warningsText(view.warnings, Number.POSITIVE_INFINITY)!;
    if (every.length > roomBeside(parts) && every.length <= roomBeside(head)) {
      warnings = every;
      parts = head;
    } else if (!warnings) {
      warnings = warningsText(view.warnings, roomBeside(head));
      if (warnings) parts = head;
    }
    parts = [...head, warnings ?? warningCount(view.warnings.length, roomBeside(head)), ...parts.slice(head.length)];
  }
  // A served target (or how the request ended) that does not fit whole goes whole; what is happening now (`waiting 20s
  // for x/y`) is shortened at a word or a path's `/` instead, as it is what the user waits on.
  if (activity && parts.at(-1) === activity && !fits(parts)) parts.pop();
  if (view.phase && !ENDED_PHASES.has(view.phase) && parts.at(-1) !== view.phase) {
    const shortened = shortenAtBoundary(view.phase, maxChars - [...parts, ""].join(" · ").length);
    if (shortened) parts.push(shortened);
  }
  // The tier and intent may go, and do with the activity (they matter less).
  const kept = parts.length;
  const tier = tierText(view);
  if (!activity || parts.at(-1) === activity) {
    if (tier) parts.push(tier);
    if (view.intent && view.confidence !== undefined) parts.push(`${view.intent} ${view.confidence.toFixed(2)}`);
  }
  while (parts.length > kept && !fits(parts)) parts.pop();
  const text = parts.join(" · ");
  // Only a route and marks too long for the line itself are shortened, at a space where there is one.
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars - 1);
  const space = text[maxChars - 1] === " " ? cut.length : cut.lastIndexOf(" ");
  return `${(space > 0 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/**
 * `text` cut to `room` characters with `…` when longer; as it is when the room is too small to keep a recognisable
 * part of it (the line's own end is then cut as before).
 */
function shortenEnd(text: string, room: number): string {
  return text.length <= room || room < 12 ? text : `${text.slice(0, room - 1)}…`;
}

/** `text` cut to `room` characters at its last space or after its last `/`, with `…`; "" when no boundary fits. */
function shortenAtBoundary(text: string, room: number): string {
  const cut = text.slice(0, Math.max(0, room - 1));
  const boundary = Math.max(cut.lastIndexOf(" "), cut.lastIndexOf("/") + 1);
  return boundary > 0 ? `${cut.slice(0, boundary).trimEnd()}…` : "";
}

/**
 * The warnings in `room` characters: every one whole, or the first ones that fit and how many more ("+2 more"), so
 * a warning is never cut mid-word and none goes unmentioned; undefined when not even one fits.
 */
function warningsText(warnings: string[], room: number): string | undefined {
  const all = `⚠ ${warnings.join(", ")}`;
  if (all.length <= room) return all;
  for (let shown = warnings.length - 1; shown > 0; shown--) {
    const text = `⚠ ${warnings.slice(0, shown).join(", ")} +${warnings.length - shown} more`;
    if (text.length <= room) return text;
  }
  return undefined;
}

/** How many warnings there are, in `room` characters if it can: `⚠ 2 warnings`, else `⚠ 2`. */
function warningCount(count: number, room: number): string {
  const text = `⚠ ${plural(count, "warning")}`;
  return text.length <= room ? text : `⚠ ${count}`;
}

/** Keeps the status view up to date from runtime callbacks and pushes the text through `publish`. */
export class StatusLine implements StatusSink {
  /** Updated in place on every request (text() copies it): one shape with every field, no copy per callback. */
  private readonly view: StatusView = {
    routeId: undefined,
    servingRouteId: undefined,
    tier: undefined,
    tierSource: undefined,
    intent: undefined,
    confidence: undefined,
    phase: undefined,
    servedKey: undefined,
    cutOff: undefined,
    failovers: undefined,
    warnings: [],
  };
  private configWarnings: string[] = [];
  /** The last decision, until its warnings are built (see onDecision). */
  private unbuiltWarnings: { decision: Decision; extra: () => string[] } | undefined;
  /** The last decision and its warnings' source, to build them again after a command changed what they read. */
  private lastDecision: { decision: Decision; extra: () => string[] } | undefined;
  private pending: NodeJS.Immediate | undefined;
  /**
   * The targets the current request attempted: its failovers so far are the ones after the first (a target tried
   * again is a retry, as in the runtime's count), shown from the commit on, not the last request's until it ends.
   */
  private readonly attempted = new Set<string>();
  /**
   * The failovers of the current prompt's requests that ended: the line counts a prompt's, so its tool turns (sent to
   * the target that served its first, or past a first choice still resting) do not hide that it failed over.
   */
  private promptFailovers = 0;

  /**
   * `publish` shows the status line (TUI, RPC); `announce` gets the one-line notices that matter when there is no
   * status line to show them (a print-mode run waiting for a cooling target); `marks` are modes shown while on.
   */
  constructor(
    private readonly publish: (text: string | undefined) => void,
    private readonly now: () => number = Date.now,
    private readonly announce?: (text: string) => void,
    private readonly marks: () => string[] = () => [],
    /** False while nothing shows a status line (print mode, the SDK without UI): the text is then not even built. */
    private readonly shown: () => boolean = () => true,
    /** The terminal's width where known: a narrower one than the line's cap drops its least important parts first. */
    private readonly columns: () => number | undefined = () => undefined,
  ) {}

  /** The warnings that hold whatever the request, shown before the route's first request (see standing()). */
  private standing: () => string[] = () => [];

  /** Where the line reads them: set once the runtime that has them exists (it takes this line as it is built). */
  setStandingWarnings(read: () => string[]): void {
    this.standing = read;
  }

  /**
   * The user selected auto-router/<routeId> (in /model, with /auto-router switch, or at start): the line names it at
   * once, and what it said about another route's last request (served target, tier, intent, that decision's
   * warnings) goes until this route's first request.
   */
  select(routeId: string): void {
    this.forRoute(routeId);
    this.render();
  }

  /** Drops the request details of another route than `routeId` and makes `routeId` the line's route. */
  private forRoute(routeId: string | undefined): void {
    const view = this.view;
    if (view.routeId !== routeId) {
      view.servingRouteId = undefined;
      view.tier = undefined;
      view.tierSource = undefined;
      view.intent = undefined;
      view.confidence = undefined;
      view.phase = undefined;
      view.servedKey = undefined;
      view.cutOff = undefined;
      view.failovers = undefined;
      view.warnings = [];
      this.promptFailovers = 0;
      this.unbuiltWarnings = undefined;
      this.lastDecision = undefined;
    }
    view.routeId = routeId;
  }

  setConfigWarning(text: string | undefined): void {
    this.configWarnings = text ? [text] : [];
    this.render();
  }

  /**
   * The decision's warnings (the plugins' among them) are worked out when the line is next built, once: while no status
   * line is shown (print mode, the SDK, the gateway) they are never needed.
   */
  onDecision(decision: Decision, extraWarnings: () => string[] = () => [], summary = false): void {
    this.forRoute(decision.requestedRouteId);
    const view = this.view;
    view.servingRouteId = decision.routeId;
    view.tier = decision.trace.tier;
    view.tierSource = decision.trace.tierSource;
    // pi's summary (compaction) is no ask of the user's: its unclassified "general 0.00" is no intent to show.
    view.intent = summary ? undefined : decision.trace.intent;
    view.confidence = summary ? undefined : decision.trace.intentConfidence;
    this.unbuiltWarnings = { decision, extra: extraWarnings };
    this.lastDecision = this.unbuiltWarnings;
  }

  /**
   * After a command that changes what the warnings read (a budget set or cleared, a breaker reset): the last decision's
   * warnings are built again, so the line does not keep a budget warning that a `budget clear` just ended.
   */
  refreshWarnings(): void {
    if (this.lastDecision) this.unbuiltWarnings = this.lastDecision;
    // Before the route's first request too: a mode a command turned on or off (shadow), a budget it set.
    this.render();
  }

  onStateChanged(): void {
    this.refreshWarnings();
  }

  private decisionWarnings(decision: Decision, extraWarnings: string[]): string[] {
    const warnings: string[] = [];
    const add = (warning: string) => {
      if (!warnings.includes(warning)) warnings.push(warning);
    };
    // The plugins' warnings are read now (a budget's spend after the request's cost, a quota after its headers); the
    // candidates' own (budget near its limit, quota stressed, a fallback's reason) are what the plugins said when the
    // request was routed, and would repeat an older figure for the same provider beside the current one.
    for (const warning of extraWarnings) add(warning);
    for (const skipped of decision.skipped)
      if (skipped.reason === "circuit-open") add(`breaker open ${skipped.provider}`);
    // "rule fallback" when rules alone left every target out: no budget was involved.
    if (decision.trace.fallback) add(`${(decision.trace.fallbackBy ?? ["budget"]).join(" and ")} fallback`);
    return warnings;
  }

  /** A prompt of the user's starts (pi's agent_start): its failovers are counted from none. */
  onPromptStart(): void {
    this.promptFailovers = 0;
  }

  onAttempt(routeId: string, candidate: Candidate, attempt: number): void {
    this.forRoute(routeId);
    if (attempt === 1) this.attempted.clear();
    this.attempted.add(candidate.key);
    this.view.phase = attempt > 1 ? `failing over → ${candidate.key}` : `→ ${candidate.key}…`;
    this.renderSoon();
  }

  onCommitted(routeId: string, candidate: Candidate): void {
    this.forRoute(routeId);
    this.view.phase = undefined;
    this.view.servedKey = candidate.key;
    this.view.cutOff = undefined;
    this.view.failovers = this.promptFailovers + Math.max(0, this.attempted.size - 1);
    this.renderSoon();
  }

  onWaiting(routeId: string, key: string, until: number, notice?: string): void {
    const seconds = waitSeconds(until - this.now());
    this.forRoute(routeId);
    this.view.phase = `waiting ${seconds}s for ${key}`;
    this.render();
    if (notice) this.announce?.(notice);
  }

  onFinished(routeId: string, outcome: RequestOutcome, servedKey: string | undefined, failovers: number): void {
    this.forRoute(routeId);
    const view = this.view;
    // A failed request with a served target started answering and broke off after the commit point: it names that
    // target ("→ x cut off"), as explain does, rather than saying no target served.
    const cutOff = outcome === "failed" && servedKey !== undefined;
    view.phase = outcome === "success" || cutOff ? undefined : outcome === "aborted" ? ABORTED : NO_TARGET_SERVED;
    view.servedKey = servedKey ?? view.servedKey;
    view.cutOff = cutOff || undefined;
    this.promptFailovers += failovers;
    view.failovers = this.promptFailovers;
    // The request's cost is booked by now: the plugins' warnings are read again (a budget's share after it).
    if (this.lastDecision) this.unbuiltWarnings = this.lastDecision;
    this.render();
  }

  /** Every warning the line shows, or counts in its "+N more": what `/auto-router status` lists. */
  warnings(): string[] {
    const unbuilt = this.unbuiltWarnings;
    if (unbuilt) {
      this.unbuiltWarnings = undefined;
      this.view.warnings = this.decisionWarnings(unbuilt.decision, unbuilt.extra());
    }
    // No request on this route yet: a blocked budget is said as soon as the route is selected, not after a prompt.
    const warnings = this.lastDecision ? this.view.warnings : this.standing();
    return [...this.configWarnings, ...warnings];
  }

  text(): string {
    // A column or two short of the terminal: pi cuts the footer at its width, and a symbol may take two columns.
    const columns = this.columns();
    const max = columns === undefined ? STATUS_MAX_CHARS : Math.max(20, Math.min(STATUS_MAX_CHARS, columns - 2));
    return formatStatus({ ...this.view, warnings: this.warnings(), marks: this.marks() }, max);
  }

  render(): void {
    this.cancelPending();
    if (this.shown()) this.publish(this.text());
  }

  /**
   * A request's attempt and commit usually come within one turn of the event loop when the answer is quick: they are
   * shown once, with the latest view, at the end of that turn, or not at all when the request's end (shown at once)
   * comes first. Every render builds the text and may repaint pi's footer.
   */
  private renderSoon(): void {
    if (this.pending || !this.shown()) return;
    this.pending = setImmediate(() => {
      this.pending = undefined;
      this.publish(this.text());
    });
    this.pending.unref();
  }

  private cancelPending(): void {
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
  }

  /**
   * A model chosen directly (not auto-router's): the line goes, and with it the route's last request: coming back to
   * the route shows it as selected, with nothing of a request from before the other model's turns until its next one.
   */
  clear(): void {
    this.cancelPending();
    this.forRoute(undefined);
    this.publish(undefined);
  }
}

// GET /health/providers: the facts `/auto-router health --json` reports (credentials, cooldowns, breakers, health
// records; with ?probe=1 the same 1-token probes), reshaped for operators and load balancers.
import type { Engine } from "../engine.ts";
import type { CommandOutput } from "../commands/command-types.ts";
import { runCommand } from "../commands/dispatch.ts";
import { configNotice } from "../commands/route-commands.ts";
import { setupProblem, type ProviderHealth, type QuotaSourceHealth } from "../health/health-check.ts";
import type { ProviderStatus } from "../routing/types.ts";
import type { BackendStatus } from "../team/team-connection.ts";

export interface ProviderHealthLine {
  ok: boolean;
  provider: string;
  statusCode?: number;
  latencyMs?: number;
  credentials: string;
  unhealthy?: string;
  lastError?: string;
  /** What routing reads of its budget and quota now ("blocked": skipped, or a 402 under a hard budget). */
  budget?: { level: string; detail: string };
  /** The provider-wide windows; `scopedQuota`: those only some of its models draw on ("opus models"). */
  quota?: { level: string; detail: string };
  scopedQuota?: Array<{ models: string; level: string; detail: string }>;
  /**
   * The provider's usage API as quota pacing last read it in the background (`?probe=1` fetches it now): whether that
   * worked, its error, when its windows were fetched. A failing usage API does not change `ok`.
   */
  quotaSource?: { id: string; ok: boolean; live: boolean; error?: string; fetchedAt?: string; latencyMs?: number };
  targets: Array<{
    key: string;
    resolvable: boolean;
    breaker: string;
    coolingDown: boolean;
    /** `probe: false` in the routes file: the target is never probed. */
    probeOff?: boolean;
    /** `?probe=1` sent this target nothing: its account is over a hard budget (why). */
    probeHeldBack?: string;
    /** `error`: why a failed probe failed (redacted), as `/auto-router health --probe` shows it. */
    probe?: { ok: boolean; status?: number; latencyMs: number; failureKind?: string; error?: string };
  }>;
}

function quotaSourceLine(source: QuotaSourceHealth): NonNullable<ProviderHealthLine["quotaSource"]> {
  return {
    id: source.id,
    ok: source.ok,
    live: source.live,
    ...(source.error !== undefined ? { error: source.error } : {}),
    ...(source.fetchedAt !== undefined ? { fetchedAt: new Date(source.fetchedAt).toISOString() } : {}),
    ...(source.latencyMs !== undefined ? { latencyMs: source.latencyMs } : {}),
  };
}

/**
 * A hard limit whose reservation refuses what a request is expected to cost is what routing reads: blocked, with the
 * shortfall as the reason, though the spend alone is under the limit (as `list` shows it over budget).
 */
const budgetLine = (budget: NonNullable<ProviderStatus["budget"]>) =>
  budget.refused ? { level: "blocked", detail: budget.refused } : { level: budget.level, detail: budget.detail };

export function healthLine(report: ProviderHealth, now: number, status?: ProviderStatus): ProviderHealthLine {
  const probes = report.targets.flatMap((target) => (target.probe ? [target.probe] : []));
  const ok =
    !report.unhealthy &&
    setupProblem(report) === undefined &&
    (probes.length === 0 || probes.some((probe) => probe.ok));
  const bestProbe = probes.find((probe) => probe.ok) ?? probes[0];
  return {
    ok,
    provider: report.provider,
    ...(bestProbe?.status !== undefined ? { statusCode: bestProbe.status } : {}),
    ...(bestProbe ? { latencyMs: bestProbe.latencyMs } : {}),
    credentials: report.credentials,
    ...(report.unhealthy ? { unhealthy: report.unhealthy } : {}),
    ...(report.lastError ? { lastError: report.lastError.message } : {}),
    ...(status?.budget ? { budget: budgetLine(status.budget) } : {}),
    ...(status?.quota ? { quota: { level: status.quota.level, detail: status.quota.detail } } : {}),
    ...(status?.scopedQuota
      ? { scopedQuota: status.scopedQuota.map(({ models, level, detail }) => ({ models, level, detail })) }
      : {}),
    ...(report.quotaSource ? { quotaSource: quotaSourceLine(report.quotaSource) } : {}),
    targets: report.targets.map((target) => ({
      key: target.key,
      resolvable: target.resolvable,
      breaker: target.breaker,
      coolingDown: target.cooldowns.some((cooldown) => cooldown.until > now),
      ...(target.probeOff ? { probeOff: true } : {}),
      ...(target.probeHeldBack ? { probeHeldBack: target.probeHeldBack } : {}),
      ...(target.probe
        ? {
            probe: {
              ok: target.probe.ok,
              status: target.probe.status,
              latencyMs: target.probe.latencyMs,
              failureKind: target.probe.failureKind,
              ...(target.probe.error ? { error: target.probe.error } : {}),
            },
          }
        : {}),
    })),
  };
}

/** Runs the `health` subcommand itself, so the endpoint and the command can never disagree. */
export async function providersHealth(
  engine: Engine,
  probe: boolean,
): Promise<{
  ok: boolean;
  providers: ProviderHealthLine[];
  routesFile: { ok: boolean; problem?: string };
  stateBackend: BackendStatus;
}> {
  let json: string | undefined;
  let failure: string | undefined;
  const output: CommandOutput = {
    info: (text) => void (json = text),
    warn: () => {},
    error: (text) => void (failure = text),
  };
  await runCommand(`health --json${probe ? " --probe" : ""}`, engine.commandDeps(), output, engine.subcommands);
  if (json === undefined) throw new Error(failure ?? "the health check produced no report");
  const now = engine.runtime.now();
  const live = engine.runtime.liveStatus(now).providers;
  const providers = (JSON.parse(json).providers as ProviderHealth[]).map((report) =>
    healthLine(report, now, live[report.provider]),
  );
  // A broken edit of the routes file (the last good routes still serve, so `ok` stays theirs), said where a monitor
  // reads, not only on the gateway's stderr.
  const notice = configNotice(engine.commandDeps());
  // The state backend (file, or the team store: its URL without the password, connection state and lag).
  return {
    ok: providers.every((provider) => provider.ok),
    providers,
    routesFile: notice ? { ok: false, problem: notice.text } : { ok: true },
    stateBackend: engine.services.backend.describe(now),
  };
}

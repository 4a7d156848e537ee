// GET /health/providers under a load balancer's polling: it reports the usage API as quota pacing last read it in the
// background (when, and whether that worked) without calling the usage API itself; `?probe=1` fetches it now.
import Anthropic from "@anthropic-ai/sdk";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeAgentDir, routeInOrder } from "../helpers/agent-dir.ts";
import { startAnthropicEmulator } from "../helpers/anthropic-emulator.ts";
import { until } from "../helpers/event-log.ts";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.ts";
import { runPi } from "../helpers/pi-cli.ts";
import { startQuotaEmulator, type QuotaEmulator } from "../helpers/quota-emulator.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const USAGE_PATH = "/api/oauth/usage";
const HOUR_MS = 3_600_000;

describe("gateway: /health/providers and the usage API", () => {
  let anthropic: Emulator;
  let quota: QuotaEmulator;
  let dir: ReturnType<typeof makeAgentDir>;
  let gateway: GatewayProcess;

  before(async () => {
    anthropic = await startAnthropicEmulator({ name: "A" });
    quota = await startQuotaEmulator();
    quota.reply(USAGE_PATH, {
      body: { five_hour: { utilization: 30, resets_at: new Date(Date.now() + 4 * HOUR_MS).toISOString() } },
    });
    dir = makeAgentDir({
      providers: {
        anthropic: {
          baseUrl: anthropic.url,
          api: "anthropic-messages",
          apiKey: "sk-ant-health-test-key",
          models: [{ id: "claude-emulated" }],
        },
      },
      routes: { routes: { main: routeInOrder("anthropic/claude-emulated") } },
      // A Claude subscription (/login): its usage API takes the login's token.
      oauth: { anthropic: "sk-ant-oat01-health-login" },
    });
    gateway = await startGatewayProcess({
      agentDir: dir.agentDir,
      env: { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}${USAGE_PATH}` },
    });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([anthropic.close(), quota.close()]);
    dir.cleanup();
  });

  const health = async (query = "") => {
    const response = await fetch(`${gateway.url}/health/providers${query}`, {
      headers: { authorization: `Bearer ${gateway.token}` },
    });
    return (await response.json()) as any;
  };
  const usageCalls = () => quota.calls.filter((call) => call.path === USAGE_PATH).length;

  it("reports quota pacing's background reading without polling the usage API, and fetches it with ?probe=1", async () => {
    // Quota pacing's own background fetch at start.
    await until(() => usageCalls() === 1, "the background usage fetch");
    const first = await health();
    const source = first.providers.find((p: any) => p.provider === "anthropic").quotaSource;
    assert.equal(source.id, "anthropic-usage");
    assert.equal(source.ok, true);
    assert.equal(source.live, false);
    assert.ok(Date.parse(source.fetchedAt) <= Date.now(), source.fetchedAt);
    for (let index = 0; index < 9; index++) await health();
    assert.equal(usageCalls(), 1, "ten health checks polled the usage API no more");

    // The usage API starts failing: a probe says so, live; the unprobed report keeps the background reading.
    quota.reply(USAGE_PATH, { status: 500, body: { error: "usage API down" } });
    anthropic.enqueue({ status: 401, errorMessage: "invalid bearer token for this account" });
    const probed = await health("?probe=1");
    // A failed probe says why, as /auto-router health --probe does.
    const probe = probed.providers.find((p: any) => p.provider === "anthropic").targets[0].probe;
    assert.equal(probe.ok, false);
    assert.equal(probe.failureKind, "auth");
    assert.match(probe.error, /invalid bearer token for this account/);
    const live = probed.providers.find((p: any) => p.provider === "anthropic").quotaSource;
    assert.equal(live.live, true);
    assert.equal(live.ok, false);
    assert.match(live.error, /500/);
    assert.equal(usageCalls(), 2);
    assert.doesNotMatch(JSON.stringify(probed), /sk-ant-health-test-key|health-login/);
  });

  it("probes for a bare ?probe too, and refuses a ?probe value it does not know instead of answering without probes", async () => {
    const before = usageCalls();
    const refused = await fetch(`${gateway.url}/health/providers?probe=on`, {
      headers: { authorization: `Bearer ${gateway.token}` },
    });
    assert.equal(refused.status, 400);
    assert.equal(
      ((await refused.json()) as any).error.message,
      'query.probe: expected 1 (probe the providers now) or 0, got "on"',
    );
    assert.equal((await health("?probe=0")).providers[0].quotaSource.live, false);
    assert.equal(usageCalls(), before, "neither probed");
    assert.equal((await health("?probe")).providers[0].quotaSource.live, true);
    assert.equal(usageCalls(), before + 1);
  });

  it("rests nothing after a server error on a one-target route: no Retry-After, and the client's next request is served at once", async () => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: gateway.token, maxRetries: 0 });
    const ask = (model: string) =>
      client.messages.create({ model, max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
    // main and the direct provider/model route both have the one target.
    for (const model of ["main", "anthropic/claude-emulated"]) {
      const calls = anthropic.calls.length;
      anthropic.enqueue({ status: 500 });
      await assert.rejects(ask(model), (error: any) => {
        assert.ok(error.status >= 500, `${model}: ${error.status} ${error.message}`);
        assert.equal(error.headers.get("retry-after"), null, `${model}: nothing to wait for`);
        return true;
      });
      const answer = await ask(model);
      assert.equal(answer.type, "message", model);
      assert.equal(anthropic.calls.length, calls + 2, `${model}: the target was asked again at once`);
      assert.equal((await health()).providers[0].targets[0].coolingDown, false, `${model}: the target does not rest`);
    }
  });

  it("shows a rest on the gateway's direct provider/model route in pi's /auto-router health, as status does", async () => {
    // A request naming the model itself runs on a one-target route of that id, which the routes file does not have.
    anthropic.enqueue({
      status: 429,
      errorType: "rate_limit_error",
      errorMessage: "Rate limited",
      retryAfterSeconds: 600,
    });
    const client = new Anthropic({ baseURL: gateway.url, apiKey: gateway.token, maxRetries: 0 });
    await assert.rejects(
      client.messages.create({
        model: "anthropic/claude-emulated",
        max_tokens: 16,
        messages: [{ role: "user", content: "hi" }],
      }),
      (error: any) => error.status === 503 && /rate limit/.test(error.message),
    );
    assert.equal((await health()).providers[0].targets[0].coolingDown, true, "the gateway's health shows the rest");
    // pi on the same agent dir reads the same state directory: its health shows that rest on the target's row.
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["-p", "/auto-router status", "/auto-router health"],
      env: { AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}${USAGE_PATH}` },
    });
    assert.equal(run.code, 0, run.stderr);
    const shown = run.stdout + run.stderr;
    // status lists every rest; health's row of the target names the direct route's beside main's (a rate limit rests
    // the target on every route naming it).
    assert.match(shown, /^ {2}anthropic\/claude-emulated anthropic\/claude-emulated: rate_limit, \d+s left$/m);
    assert.match(
      shown,
      /^ {2}anthropic\/claude-emulated +yes +oauth +main rate_limit \d+s, anthropic\/claude-emulated rate_limit \d+s +closed/m,
    );
  });
});

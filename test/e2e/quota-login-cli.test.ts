// A Claude subscription login whose token has expired, through the real pi CLI with no network: pi tries to refresh
// it and fails, so its registry gives no token. The usage source and /auto-router health say so (the login exists, its
// token could not be refreshed, /login again) instead of claiming there is no login, and print no token.
import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeAgentDir, REPO_ROOT, routeInOrder } from "../helpers/agent-dir.ts";
import { runPi } from "../helpers/pi-cli.ts";
import { startQuotaEmulator, type QuotaEmulator } from "../helpers/quota-emulator.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const HOUR_MS = 3_600_000;
const USAGE_PATH = "/api/oauth/usage";
const ACCESS_TOKEN = "sk-ant-oat01-expired-access-token";
const REFRESH_TOKEN = "sk-ant-ort01-expired-refresh-token";

describe("an expired login whose refresh fails, through the pi CLI", () => {
  let quota: QuotaEmulator;
  let dir: ReturnType<typeof makeAgentDir>;
  let home: string;

  before(async () => {
    quota = await startQuotaEmulator();
    home = freshDir("auto-router-login-home");
    dir = makeAgentDir({ routes: { routes: { main: routeInOrder("anthropic/claude-sonnet-4-5") } } });
    const auth = join(dir.agentDir, "auth.json");
    writeFileSync(
      auth,
      JSON.stringify({
        anthropic: { type: "oauth", access: ACCESS_TOKEN, refresh: REFRESH_TOKEN, expires: Date.now() - HOUR_MS },
      }),
    );
    chmodSync(auth, 0o600);
  });
  after(async () => {
    await quota.close();
    dir.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it("says the login's token could not be refreshed, not that there is no login", async () => {
    quota.reply(USAGE_PATH, { body: {} });
    const refused = join(home, "refused-urls.txt");
    const run = await runPi({
      agentDir: dir.agentDir,
      env: {
        HOME: home,
        AUTO_ROUTER_ANTHROPIC_USAGE_URL: `${quota.url}${USAGE_PATH}`,
        NODE_OPTIONS: `--import ${join(REPO_ROOT, "test", "helpers", "no-network.mjs")}`,
        NO_NETWORK_LOG: refused,
      },
      args: ["--model", "auto-router/main", "-p", "/auto-router uvi refresh", "/auto-router health"],
    });
    assert.equal(run.code, 0, run.stderr);
    const shown = run.stdout + run.stderr;

    // pi tried to refresh the token at its provider, and could not: the situation this test is about.
    assert.ok(existsSync(refused), "pi tried to reach the OAuth token endpoint");
    assert.match(readFileSync(refused, "utf8"), /\/oauth\/token/);
    assert.equal(quota.calls.length, 0, "no usage request without a token");

    const said =
      /pi has a login for anthropic, but its OAuth token has expired and could not be refreshed \(offline, or the login was revoked\?\): \/login again/;
    assert.match(shown, new RegExp(`anthropic-usage \\(anthropic\\): stale \\(${said.source}\\)`));
    assert.match(shown, /anthropic: healthy; credentials oauth/);
    // The health check reports quota pacing's reading (it does not fetch the usage API again without --probe).
    assert.match(shown, new RegExp(`quota source: anthropic-usage failing: ${said.source}`));
    assert.doesNotMatch(shown, /no OAuth credentials/);
    assert.doesNotMatch(shown, /expired-access-token|expired-refresh-token/);
  });
});

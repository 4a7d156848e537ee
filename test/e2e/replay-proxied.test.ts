// routing-replay over the gateway's wildcard-proxy requests: the gateway only ever considers a route's targets whose
// provider advertises the request's path, so a replay under the same routes file must too, or it reports every such
// request as routed differently. The log is written by the real `pi-auto-router serve` behind the official OpenAI
// client.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ROUTES_FILE_NAME } from "../helpers/agent-dir.ts";
import { startUpstream, type Upstream } from "../helpers/endpoint-upstream.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { routingScriptJson } from "../helpers/routing-script.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";

// PI_CODING_AGENT_DIR: its models.json: the proxy's models are no pi built-ins.
const replay = (agentDir: string, config: string): Promise<any> =>
  routingScriptJson("routing-replay", ["--file", join(agentDir, "extensions"), "--config", config], {
    PI_CODING_AGENT_DIR: agentDir,
  });

describe("routing-replay of requests the gateway proxied", () => {
  let files: Upstream;
  let embeddings: Upstream;
  let fx: GatewayFixture<never>;

  before(async () => {
    [files, embeddings] = await Promise.all([startUpstream("F"), startUpstream("E")]);
    const target = (provider: string, modelId: string) => ({ provider, modelId, probe: false });
    fx = await startGatewayFixture({
      emulators: {},
      providers: {
        uploader: {
          baseUrl: files.url,
          api: "openai-completions",
          apiKey: "sk-uploader-key-000000001",
          models: [{ id: "files-only" }],
        },
        embedder: {
          baseUrl: embeddings.url,
          api: "openai-completions",
          apiKey: "sk-embedder-key-000000002",
          models: [{ id: "embed-large" }],
        },
      },
      routes: {
        // The route's first target serves /v1/files only: an embeddings request goes to its second.
        routes: {
          mixed: { sortBy: "config", targets: [target("uploader", "files-only"), target("embedder", "embed-large")] },
        },
        providers: {
          uploader: { endpointPrefixes: ["/v1/files"] },
          embedder: { endpointPrefixes: ["/v1/embeddings"] },
        },
      },
    });
  });
  after(async () => {
    await fx?.stop();
    await Promise.all([files, embeddings].map((upstream) => upstream?.close()));
  });

  it("replays a proxied request over the targets advertising its path: the same routes file routes it the same", async () => {
    for (const input of ["one", "two"]) {
      const { response } = await fx.openai.embeddings.create({ model: "mixed", input }).withResponse();
      assert.equal(response.headers.get("x-auto-router-served-by"), "embedder/embed-large");
    }
    assert.equal(files.calls.length, 0);
    const finals = () => readLoggedEvents(fx.agentDir).filter((event) => event.type === "final");
    await until(() => finals().length === 2, "both requests' final events");
    assert.deepEqual(
      finals().map((event) => [event.data.servedTarget, event.data.attempts, event.data.notes]),
      [
        ["embedder/embed-large", 1, ["proxied POST /v1/embeddings"]],
        ["embedder/embed-large", 1, ["proxied POST /v1/embeddings"]],
      ],
    );

    const routesFile = join(fx.agentDir, "extensions", ROUTES_FILE_NAME);
    const same = (await replay(fx.agentDir, routesFile)).report;
    assert.deepEqual([same.replayed, same.same, same.different], [2, 2, 0], JSON.stringify(same.changes));

    // Under a routes file whose first target's provider advertises embeddings too, they would go to it.
    const config = JSON.parse(readFileSync(routesFile, "utf8"));
    config.providers.uploader.endpointPrefixes.push("/v1/embeddings");
    const wider = join(freshDir("auto-router-replay-config"), "routes.json");
    writeFileSync(wider, JSON.stringify(config));
    const moved = (await replay(fx.agentDir, wider)).report;
    assert.deepEqual([moved.replayed, moved.same, moved.different], [2, 0, 2]);
    assert.deepEqual(moved.changes, [{ from: "embedder/embed-large", to: "uploader/files-only", requests: 2 }]);
  });
});

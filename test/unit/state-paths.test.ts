import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { directoryProblem } from "../../src/state/state-file.ts";
import {
  EVENT_LOG_NAME,
  resolveStateDir,
  routesFilePath,
  stateDirSource,
  stateFile,
} from "../../src/state/state-paths.ts";
import { REPO_ROOT } from "../helpers/agent-dir.ts";
import { freshDir } from "../helpers/temp-and-workers.ts";

const STATE_FILE_MODULE = join(REPO_ROOT, "src", "state", "state-file.ts");

const AGENT_DIR = join("/home", "someone", ".pi", "agent");

describe("resolveStateDir", () => {
  it("uses AUTO_ROUTER_LOG_DIR before the config's logDir", () => {
    const dir = resolveStateDir({
      processEnv: { AUTO_ROUTER_LOG_DIR: "/var/state/router", HOME: "/home/someone" },
      configLogDir: "~/logs",
      agentDir: AGENT_DIR,
    });
    assert.equal(dir, "/var/state/router");
  });

  it("uses the config's logDir with a leading ~/ expanded from HOME when the variable is not set", () => {
    const dir = resolveStateDir({
      processEnv: { HOME: "/home/someone" },
      configLogDir: "~/router-logs",
      agentDir: AGENT_DIR,
    });
    assert.equal(dir, join("/home/someone", "router-logs"));
  });

  it("expands a leading ~/ in AUTO_ROUTER_LOG_DIR and AUTO_ROUTER_CONFIG from HOME, as the earlier router did", () => {
    const processEnv = { HOME: "/home/someone", AUTO_ROUTER_LOG_DIR: "~/old-router", AUTO_ROUTER_CONFIG: "~/r.json" };
    assert.equal(resolveStateDir({ processEnv, agentDir: AGENT_DIR }), join("/home/someone", "old-router"));
    assert.equal(routesFilePath(processEnv, AGENT_DIR), join("/home/someone", "r.json"));
    assert.equal(routesFilePath({ AUTO_ROUTER_CONFIG: "/etc/r.json" }, AGENT_DIR), "/etc/r.json");
  });

  it("makes a relative AUTO_ROUTER_LOG_DIR or AUTO_ROUTER_CONFIG absolute from the directory the process started in", () => {
    const processEnv = { AUTO_ROUTER_LOG_DIR: "router-state", AUTO_ROUTER_CONFIG: "./conf/r.json" };
    assert.equal(resolveStateDir({ processEnv, agentDir: AGENT_DIR }), join(process.cwd(), "router-state"));
    assert.equal(routesFilePath(processEnv, AGENT_DIR), join(process.cwd(), "conf", "r.json"));
  });

  it("keeps an absolute config logDir as written", () => {
    assert.equal(resolveStateDir({ processEnv: {}, configLogDir: "/srv/router", agentDir: AGENT_DIR }), "/srv/router");
  });

  it("takes a relative config logDir from the routes file's directory, not from the directory pi runs in", () => {
    const routesFile = join(AGENT_DIR, "extensions", "auto-router.routes.json");
    for (const [logDir, expected] of [
      ["router-state", join(AGENT_DIR, "extensions", "router-state")],
      ["./router-state", join(AGENT_DIR, "extensions", "router-state")],
      ["../router-state", join(AGENT_DIR, "router-state")],
      ["/srv/router", "/srv/router"],
      ["~/router", join("/home/someone", "router")],
    ])
      assert.equal(
        resolveStateDir({
          processEnv: { HOME: "/home/someone" },
          configLogDir: logDir,
          agentDir: AGENT_DIR,
          routesFile,
        }),
        expected,
        logDir,
      );
  });

  it("falls back to the extensions folder of pi's agent dir", () => {
    assert.equal(
      resolveStateDir({ processEnv: { AUTO_ROUTER_LOG_DIR: "" }, agentDir: AGENT_DIR }),
      join(AGENT_DIR, "extensions"),
    );
  });
});

describe("stateFile and EVENT_LOG_NAME", () => {
  it("names state files auto-router.<name>.json directly inside the directory", () => {
    assert.equal(stateFile("/state", "usage"), join("/state", "auto-router.usage.json"));
  });

  it("rejects names that would leave the directory or create a subfolder", () => {
    assert.throws(() => stateFile("/state", "../escape"));
    assert.throws(() => stateFile("/state", "nested/usage"));
  });

  it("names the event log with a .jsonl extension that pi never loads", () => {
    assert.equal(EVENT_LOG_NAME, "auto-router.events.jsonl");
  });
});

describe("an unusable state directory", () => {
  it("names the setting the directory came from", () => {
    assert.equal(
      stateDirSource({ processEnv: { AUTO_ROUTER_LOG_DIR: "/x" }, configLogDir: "/y" }),
      "AUTO_ROUTER_LOG_DIR",
    );
    assert.equal(stateDirSource({ processEnv: {}, configLogDir: "/y" }), "logDir in the routes file");
    assert.equal(stateDirSource({ processEnv: {} }), "the default, <agentDir>/extensions");
  });

  it("says a file in its place, or in place of one of its parents, is not a directory", () => {
    const file = join(freshDir("auto-router-state-dir"), "afile");
    writeFileSync(file, "");
    assert.equal(directoryProblem(file), "it is a file, not a directory");
    assert.equal(directoryProblem(join(file, "state")), `${file} is a file, not a directory`);
  });

  // root may write anywhere, so as root the check runs as the unprivileged "nobody" user (which must read the checkout).
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const checkoutReadable =
    spawnSync(process.execPath, ["-e", `require("fs").accessSync(${JSON.stringify(STATE_FILE_MODULE)})`], asNobody)
      .status === 0;
  it("says in words that this user may not write in the directory, with the code", {
    skip: checkoutReadable ? false : "running as root in a checkout the unprivileged user cannot read",
  }, () => {
    const dir = join(freshDir("auto-router-state-dir"), "read-only");
    mkdirSync(dir, { mode: 0o555 });
    chmodSync(dirname(dir), 0o755);
    const script = `import { directoryProblem } from ${JSON.stringify(pathToFileURL(STATE_FILE_MODULE).href)}; console.log(directoryProblem(${JSON.stringify(dir)}));`;
    const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      ...asNobody,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), "this user may not write in it: EACCES");
  });
});

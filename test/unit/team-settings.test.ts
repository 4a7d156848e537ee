import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfigValue } from "../../src/config/parse-config.ts";
import { redactRedisUrl, resolveTeamSettings } from "../../src/team/team-settings.ts";

describe("team store settings", () => {
  it("uses the file store when nothing selects Redis", () => {
    const { settings, issues } = resolveTeamSettings(undefined, {}, "box-1");
    assert.deepEqual(settings, { backend: "file", machine: "box-1" });
    assert.deepEqual(issues, []);
  });

  it("selects Redis from the routes file's state block with its key prefix and default onStoreDown", () => {
    const { settings } = resolveTeamSettings(
      { backend: "redis", url: "redis://cache:6379/2", keyPrefix: "par:blue:" },
      {},
      "box-1",
    );
    assert.equal(settings.backend, "redis");
    assert.ok(settings.backend === "redis");
    assert.equal(settings.url, "redis://cache:6379/2");
    assert.equal(settings.keyPrefix, "par:blue:");
    assert.equal(settings.onStoreDown, "block");
  });

  it("lets AUTO_ROUTER_REDIS_URL win over the file and select Redis on its own", () => {
    const fromEnv = resolveTeamSettings(
      { backend: "redis", url: "redis://file-host:6379" },
      { AUTO_ROUTER_REDIS_URL: "rediss://team:s3cret@env-host:6380/1" },
      "box",
    );
    assert.ok(fromEnv.settings.backend === "redis");
    assert.equal(fromEnv.settings.url, "rediss://team:s3cret@env-host:6380/1");
    assert.equal(fromEnv.settings.displayUrl, "rediss://team:***@env-host:6380/1");
    const envOnly = resolveTeamSettings(undefined, { AUTO_ROUTER_REDIS_URL: "redis://env-host" }, "box");
    assert.equal(envOnly.settings.backend, "redis");
    assert.deepEqual(envOnly.issues, []);
  });

  it('says that AUTO_ROUTER_REDIS_URL overrides a routes file\'s "backend": "file" (a machine switched back)', () => {
    const { settings, issues } = resolveTeamSettings(
      { backend: "file" },
      { AUTO_ROUTER_REDIS_URL: "redis://:s3cret@env-host:6379/0" },
      "box",
    );
    assert.equal(settings.backend, "redis");
    assert.deepEqual(issues, [
      {
        severity: "warning",
        path: "state.backend",
        message:
          'is "file", but AUTO_ROUTER_REDIS_URL is set and selects the team store (the environment wins): unset AUTO_ROUTER_REDIS_URL to use the file store',
      },
    ]);
  });

  it("reports an invalid URL as an issue naming the field and falls back to the file store", () => {
    const fromFile = resolveTeamSettings({ backend: "redis", url: "http://cache:6379" }, {}, "box");
    assert.equal(fromFile.settings.backend, "file");
    assert.equal(fromFile.issues[0]?.path, "state.url");
    assert.match(fromFile.issues[0]!.message, /expected a redis:\/\/ or rediss:\/\/ URL.*using the file store/);
    const fromEnv = resolveTeamSettings(undefined, { AUTO_ROUTER_REDIS_URL: "redis://:pw@host/notanumber" }, "box");
    assert.equal(fromEnv.settings.backend, "file");
    assert.equal(fromEnv.issues[0]?.path, "AUTO_ROUTER_REDIS_URL");
    assert.match(fromEnv.issues[0]!.message, /database number/);
    // ioredis reads ?db=, the team store's database checks read the path: the URL must say it in one place.
    const query = resolveTeamSettings(undefined, { AUTO_ROUTER_REDIS_URL: "redis://:pw@host:6379?db=3" }, "box");
    assert.equal(query.settings.backend, "file");
    assert.match(
      query.issues[0]!.message,
      /the database goes in the URL's path \(redis:\/\/host:port\/3\), not in \?db=/,
    );
    const missing = resolveTeamSettings({ backend: "redis" }, {}, "box");
    assert.equal(missing.settings.backend, "file");
    assert.match(missing.issues[0]!.message, /needs a url/);
  });

  it("warns of an empty keyPrefix, which puts the team's keys among every other key of the database", () => {
    const empty = resolveTeamSettings({ backend: "redis", url: "redis://cache:6379/0", keyPrefix: "" }, {}, "box");
    assert.equal(empty.settings.backend === "redis" && empty.settings.keyPrefix, "");
    assert.deepEqual(
      empty.issues.map((issue) => [issue.severity, issue.path]),
      [["warning", "state.keyPrefix"]],
    );
    assert.match(empty.issues[0]!.message, /^is empty: the team's keys lie at the database's top level/);
    const unset = resolveTeamSettings({ backend: "redis", url: "redis://cache:6379/0" }, {}, "box");
    assert.deepEqual(unset.issues, []);
    // One without a separator at its end: keys run into it, and its ACL pattern covers another team's prefix.
    const bare = resolveTeamSettings({ backend: "redis", url: "redis://cache:6379/0", keyPrefix: "team1" }, {}, "box");
    assert.deepEqual(
      bare.issues.map((issue) => `${issue.severity} ${issue.path}: ${issue.message}`),
      [
        'warning state.keyPrefix: "team1" ends in a letter or digit: the team\'s keys read team1state:latency, and an ACL pattern ~team1* for them also matches a team "team10"\'s; end it with ":" ("team1:")',
      ],
    );
    for (const keyPrefix of ["team1:", "team1-", "{team1}:"])
      assert.deepEqual(
        resolveTeamSettings({ backend: "redis", url: "redis://cache:6379/0", keyPrefix }, {}, "box").issues,
        [],
      );
  });

  it("takes a URL inside one pair of quotes, as docker run --env-file hands a quoted line on", () => {
    for (const quoted of ['"redis://:pw@cache:6379/2"', "'redis://:pw@cache:6379/2'"]) {
      const fromEnv = resolveTeamSettings(undefined, { AUTO_ROUTER_REDIS_URL: quoted }, "box");
      assert.deepEqual([fromEnv.settings.backend, fromEnv.issues], ["redis", []]);
      assert.equal(fromEnv.settings.backend === "redis" && fromEnv.settings.url, "redis://:pw@cache:6379/2");
    }
    const mismatched = resolveTeamSettings(undefined, { AUTO_ROUTER_REDIS_URL: '"redis://cache:6379' }, "box");
    assert.equal(mismatched.settings.backend, "file");
  });

  it("never shows the password of a URL, also in the message about an invalid one", () => {
    assert.equal(redactRedisUrl("redis://:hunter2@host:6379/0"), "redis://:***@host:6379/0");
    assert.equal(redactRedisUrl("redis://alice:hunter2@host"), "redis://alice:***@host");
    // Unparsable because the password holds a `/`: the whole login goes.
    assert.equal(redactRedisUrl("redis://alice:hun/ter2@host:6379/0"), "redis://***@host:6379/0");
    // A space beside the `/` or `#` (and anything else) is part of the login too.
    assert.equal(redactRedisUrl("redis://:Pa ss/word@host:6379/0"), "redis://***@host:6379/0");
    assert.equal(redactRedisUrl("redis://router:my pass#word@host:6379/0"), "redis://***@host:6379/0");
    // Parsable, as host "router", port 12 and a path holding the rest of the password and the real host.
    assert.equal(redactRedisUrl("redis://router:12/hunter2@host:6379/0"), "redis://***@host:6379/0");
    // No "://" at all: everything before the last "@" but the scheme name.
    assert.equal(redactRedisUrl("redis//router:hunter2@host:6379/0"), "redis***@host:6379/0");
    assert.equal(redactRedisUrl("redis:/router:hunter2@host"), "redis***@host");
    for (const url of [
      "redis://:Pa ss/hunter2@host:1/0",
      "redis://u:my pass#hunter2@h:1/0",
      "redis://u:12/hunter2@h:1/0",
    ])
      assert.doesNotMatch(
        resolveTeamSettings(undefined, { AUTO_ROUTER_REDIS_URL: url }, "box").issues[0]!.message,
        /hunter2|my pass|Pa ss/,
      );
    const { issues } = resolveTeamSettings({ backend: "redis", url: "redis://:hunter2@ho st:6379" }, {}, "box");
    assert.ok(issues.length > 0);
    assert.doesNotMatch(issues[0]!.message, /hunter2/);
  });

  it("never shows a password given as a query parameter, and shows a URL without one exactly as before", () => {
    assert.equal(redactRedisUrl("redis://127.0.0.1:6379/0?password=hunter2"), "redis://127.0.0.1:6379/0?password=***");
    assert.equal(
      redactRedisUrl("rediss://alice:pw2@h:1/0?family=6&sentinelPassword=hunter2&Pass%77ord=hunter2"),
      "rediss://alice:***@h:1/0?family=6&sentinelPassword=***&Pass%77ord=***",
    );
    // An `@` or `#` in it does not end it, nor make it look like a login.
    assert.equal(redactRedisUrl("redis://h:1/0?password=hun@ter#2&db=1"), "redis://h:1/0?password=***&db=1");
    // ioredis sends `name@` as the ACL user name (with an empty password), but it is as often a password whose colon
    // was left out: masked.
    assert.equal(redactRedisUrl("redis://router@h:1/0"), "redis://***@h:1/0");
    assert.equal(redactRedisUrl("redis://S3cr3t%2Fpa%3Ass%40word@127.0.0.1:51537/0"), "redis://***@127.0.0.1:51537/0");
    // The epoch a machine remembers is keyed by this text: other query parameters keep their spelling.
    for (const url of ["redis://:p@h:1/0?family=6&name=a%20b", "redis://h:1?keyPrefix=x", "redis://h:1/0?"])
      assert.equal(redactRedisUrl(url), new URL(url.replace(":p@", ":***@")).toString());
    const { issues } = resolveTeamSettings(
      undefined,
      { AUTO_ROUTER_REDIS_URL: "redis://h:port/0?password=hunter2" },
      "b",
    );
    assert.ok(issues.length > 0);
    assert.doesNotMatch(issues[0]!.message, /hunter2/);
  });

  it("names the machine from AUTO_ROUTER_MACHINE, then state.machine, then the host name", () => {
    assert.equal(
      resolveTeamSettings({ machine: "laptop" }, { AUTO_ROUTER_MACHINE: "ci-7" }, "host").settings.machine,
      "ci-7",
    );
    assert.equal(resolveTeamSettings({ machine: "laptop" }, {}, "host").settings.machine, "laptop");
    assert.equal(resolveTeamSettings(undefined, {}, "host").settings.machine, "host");
  });

  it("accepts the state block in the routes file schema and rejects an unknown backend", () => {
    const routes = { a: { targets: [{ provider: "p", modelId: "m" }] } };
    const ok = parseConfigValue({
      routes,
      state: { backend: "redis", url: "redis://h:6379", keyPrefix: "par:t:", onStoreDown: "local" },
    });
    assert.ok(ok.config?.state);
    const bad = parseConfigValue({ routes, state: { backend: "etcd" } });
    assert.equal(bad.config, undefined);
    assert.equal(bad.issues[0]?.path, "state.backend");
  });
});

// The connection that receives other machines' change notices, with the real ioredis client against a real
// redis-server: it subscribes again after Redis restarts, and a connection closed while that subscribe is on its way
// leaves no unhandled rejection (which would end pi or the gateway).
import assert from "node:assert/strict";
import { createServer, connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { openChangeSubscriber } from "../../src/team/ioredis-quirks.ts";
import { startRedisServer, type RedisServer } from "../helpers/redis-server.ts";
import { eventually } from "../helpers/temp-and-workers.ts";

const OPTIONS = { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 50 };

describe("team change subscriber", () => {
  let redis: RedisServer;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  const opened: Redis[] = [];

  before(async () => {
    redis = await startRedisServer();
    process.on("unhandledRejection", onUnhandled);
  });
  after(async () => {
    for (const subscriber of opened) subscriber.disconnect();
    process.off("unhandledRejection", onUnhandled);
    await redis.stop();
  });

  const subscribe = (channel: string) => {
    const messages: string[] = [];
    const subscribed = { count: 0 };
    const subscriber = openChangeSubscriber(
      Redis,
      redis.url,
      OPTIONS,
      channel,
      (message) => messages.push(message),
      undefined,
      () => subscribed.count++,
    );
    opened.push(subscriber);
    return { subscriber, messages, subscribed };
  };
  /** Publishes until the subscriber has a notice: a SUBSCRIBE is answered asynchronously. */
  const published = async (channel: string, messages: string[], text: string) => {
    await eventually(() => {
      if (!messages.includes(text)) redis.cli("PUBLISH", channel, text);
      return messages.includes(text);
    }, `the subscriber receives ${text}`);
  };

  it("receives notices again after Redis restarts, and says each time it subscribed", async () => {
    const { messages, subscribed } = subscribe("par:sub:changed");
    await published("par:sub:changed", messages, "before");
    assert.equal(subscribed.count, 1);
    await redis.restart();
    await published("par:sub:changed", messages, "after");
    // The team connection stops advising a channel grant when a subscribe goes through (a reconnect's included).
    assert.equal(subscribed.count, 2);
  });

  it("subscribes again after connections cut while subscribing, and closes without an unhandled rejection", async () => {
    // A proxy in front of Redis. "cut": it cuts a connection as soon as the client subscribes on it (a Redis or network
    // that goes away again right after each reconnect); "hold": it keeps the subscribe from Redis, unanswered.
    let mode: "pass" | "cut" | "hold" = "pass";
    let cuts = 0;
    let held = 0;
    const sockets: Socket[] = [];
    const proxy = createServer((client) => {
      const upstream = connect(redis.port, "127.0.0.1");
      sockets.push(client, upstream);
      client.on("error", () => undefined);
      upstream.on("error", () => undefined);
      client.on("data", (chunk) => {
        if (mode === "hold" && /subscribe/i.test(chunk.toString())) {
          held++;
          return;
        }
        if (mode === "cut" && /subscribe/i.test(chunk.toString())) {
          cuts++;
          client.destroy();
          upstream.destroy();
          return;
        }
        upstream.write(chunk);
      });
      upstream.pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));

    try {
      const port = (proxy.address() as { port: number }).port;
      const messages: string[] = [];
      const subscriber = openChangeSubscriber(Redis, `redis://127.0.0.1:${port}/0`, OPTIONS, "par:cut:changed", (m) =>
        messages.push(m),
      );
      opened.push(subscriber);
      await published("par:cut:changed", messages, "first");
      mode = "cut";
      for (const socket of sockets) socket.destroy();
      await eventually(() => cuts >= 2, "two connections cut while subscribing");
      mode = "pass";
      await published("par:cut:changed", messages, "after the cuts");
      // Closed (pi or the gateway stopping) while the subscribe after a reconnect is unanswered: it is rejected then,
      // and that rejection must be handled.
      mode = "hold";
      for (const socket of sockets) socket.destroy();
      await eventually(() => held >= 1, "a subscribe after the reconnect is held unanswered");
      subscriber.disconnect();
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.deepEqual(
        unhandled.map((reason) => String(reason)),
        [],
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});

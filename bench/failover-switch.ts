// Failover switch time: from the moment the router receives the first target's error event to the moment it
// invokes the second target's stream function. Baseline in the same run: the router's first dispatch (pi calls the
// router -> the first target's stream function is invoked), the fixed cost every request pays anyway.
import {
  fauxAssistantMessage,
  registerFauxProvider,
  streamSimple,
  type Api,
  type AssistantMessageEventStream,
  type Model,
} from "@mariozechner/pi-ai";
import type { EventLog } from "../src/state/event-log.ts";
import type { StreamFunction } from "../src/runtime/start-target.ts";
import { BENCH_CONTEXT, buildRouter, timeRequest, yieldToEventLoop } from "./router-harness.ts";
import { formatMicroseconds, formatRatio, nowMicroseconds, summarize, table, verdict } from "./stats.ts";

const WARM_UP_REQUESTS = 300;
const MEASURED_REQUESTS = 2_000;
export const GOAL_SWITCH_P99_US = 1_000;
const FIRST_TARGET_ERROR = "429 Too Many Requests";

/** Records when the router's iterator receives the stream's error event. */
export function onErrorEvent(stream: AssistantMessageEventStream, record: () => void): AssistantMessageEventStream {
  const iterate = stream[Symbol.asyncIterator].bind(stream);
  stream[Symbol.asyncIterator] = () => {
    const iterator = iterate();
    return {
      next: async () => {
        const result = await iterator.next();
        if (!result.done && result.value.type === "error") record();
        return result;
      },
      return: iterator.return?.bind(iterator),
      throw: iterator.throw?.bind(iterator),
      [Symbol.asyncIterator]() {
        return this;
      },
    } as AsyncIterableIterator<any> as any;
  };
  return stream;
}

export async function measureFailoverSwitch(
  events?: EventLog,
): Promise<{ figures: Record<string, number>; lines: string[] }> {
  const failing = registerFauxProvider({
    api: "bench-switch-a",
    provider: "bench-switch-a",
    models: [{ id: "model-a" }],
  });
  const healthy = registerFauxProvider({
    api: "bench-switch-b",
    provider: "bench-switch-b",
    models: [{ id: "model-b" }],
  });
  try {
    const first = failing.getModel() as Model<Api>;
    const second = healthy.getModel() as Model<Api>;
    let calledAt = Number.NaN;
    let firstInvokedAt = Number.NaN;
    let errorSeenAt = Number.NaN;
    let secondInvokedAt = Number.NaN;
    const stream: StreamFunction = (model, context, options) => {
      if (model.provider === first.provider) {
        firstInvokedAt = nowMicroseconds();
        return onErrorEvent(streamSimple(model, context, options), () => (errorSeenAt = nowMicroseconds()));
      }
      secondInvokedAt = nowMicroseconds();
      return streamSimple(model, context, options);
    };
    // cooldownMs 0: the failed target stays a candidate, so every request fails over afresh.
    const router = buildRouter({
      routeId: "bench-switch",
      targets: [first, second],
      events,
      stream,
      route: { failover: { kinds: { rate_limit: { cooldownMs: 0 } } } },
    });
    const switchSamples: number[] = [];
    const dispatchSamples: number[] = [];
    for (let index = 0; index < WARM_UP_REQUESTS + MEASURED_REQUESTS; index++) {
      failing.appendResponses([fauxAssistantMessage([], { stopReason: "error", errorMessage: FIRST_TARGET_ERROR })]);
      healthy.appendResponses([fauxAssistantMessage("served by the second target")]);
      errorSeenAt = secondInvokedAt = firstInvokedAt = Number.NaN;
      calledAt = nowMicroseconds();
      const result = await timeRequest(router.stream, router.routerModel, BENCH_CONTEXT, {
        apiKey: "auto-router-virtual",
      });
      await yieldToEventLoop();
      if (result.stopReason !== "stop" || Number.isNaN(errorSeenAt) || Number.isNaN(secondInvokedAt)) {
        throw new Error(`failover bench request did not fail over: ${result.stopReason}`);
      }
      if (index < WARM_UP_REQUESTS) continue;
      switchSamples.push(secondInvokedAt - errorSeenAt);
      dispatchSamples.push(firstInvokedAt - calledAt);
    }
    const switched = summarize(switchSamples);
    const dispatch = summarize(dispatchSamples);
    const lines = [
      `failover switch, faux targets (first answers "${FIRST_TARGET_ERROR}"), ${MEASURED_REQUESTS} requests after ${WARM_UP_REQUESTS} warm-up`,
      ...table(
        ["figure", "p50", "p99", "ratio to baseline p50", "goal", "verdict"],
        [
          [
            "switch: error seen -> next target's request sent",
            formatMicroseconds(switched.p50),
            formatMicroseconds(switched.p99),
            formatRatio(switched.p50 / dispatch.p50),
            `p99 <= ${formatMicroseconds(GOAL_SWITCH_P99_US)}`,
            verdict(switched.p99 <= GOAL_SWITCH_P99_US),
          ],
          [
            "baseline: router called -> first target's request sent",
            formatMicroseconds(dispatch.p50),
            formatMicroseconds(dispatch.p99),
            "1.00x",
            "-",
            "",
          ],
        ],
      ).map((line) => `  ${line}`),
    ];
    return {
      figures: {
        switchP50Us: switched.p50,
        switchP99Us: switched.p99,
        firstDispatchP50Us: dispatch.p50,
        firstDispatchP99Us: dispatch.p99,
      },
      lines,
    };
  } finally {
    failing.unregister();
    healthy.unregister();
  }
}

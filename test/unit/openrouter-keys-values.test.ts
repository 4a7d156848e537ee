// OpenRouter's own provider preferences are checked against OpenRouter's types before any target is tried: a
// quantization level it has not, or a negative throughput or latency, is refused with the path and what is expected.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseProviderPreferences } from "../../src/gateway/provider-preferences.ts";
import { refusedPreferences as refused } from "../helpers/preference-refusal.ts";

const LEVELS = '"int4"|"int8"|"fp4"|"mxfp4"|"nvfp4"|"fp6"|"fp8"|"mxfp8"|"fp16"|"bf16"|"fp32"|"unknown"';
const OWN_KEY = " (OpenRouter's own key, sent to OpenRouter targets)";

describe("OpenRouter's own preference values", () => {
  it("refuses any other quantization level, naming the one meant when only one is that close", () => {
    const keys = {
      quantizations: ["fp8", "bf16", "mxfp4", "unknown"],
      preferred_min_throughput: { p50: 0, p90: 40.5 },
      preferred_max_latency: 2,
    };
    assert.deepEqual(parseProviderPreferences(keys, "body.provider").openRouter, keys, "OpenRouter's own values");
    assert.equal(
      refused({ quantizations: ["fp7"] }),
      `body.provider.quantizations[0]: expected one of ${LEVELS}${OWN_KEY}`,
    );
    assert.equal(
      refused({ quantizations: ["fp8", "FP16"] }),
      `body.provider.quantizations[1]: expected one of ${LEVELS}; did you mean "fp16"?${OWN_KEY}`,
    );
    assert.match(refused({ quantizations: ["bf61"] }), /; did you mean "bf16"\?/);
    assert.match(refused({ quantizations: ["q4_K_M"] }), /^body\.provider\.quantizations\[0\]: expected one of /);
  });

  it("sends no key pasted as a level back in its error", () => {
    const message = refused({ quantizations: ["sk-or-v1-AbCdEfGhIjKlMnOpQrSt"] });
    assert.doesNotMatch(message, /AbCdEfGhIj/, message);
  });

  it("refuses a negative throughput or latency, as a number or a percentile", () => {
    assert.equal(
      refused({ preferred_max_latency: -5 }),
      `body.provider.preferred_max_latency: expected a number >= 0, got -5${OWN_KEY}`,
    );
    assert.equal(
      refused({ preferred_min_throughput: { p50: 10, p99: -0.5 } }),
      `body.provider.preferred_min_throughput.p99: expected a number >= 0, got -0.5${OWN_KEY}`,
    );
    assert.equal(
      refused({ preferred_max_latency: "fast" }),
      `body.provider.preferred_max_latency: expected a number >= 0, or an object of p50/p75/p90/p99 such numbers${OWN_KEY}`,
    );
  });
});

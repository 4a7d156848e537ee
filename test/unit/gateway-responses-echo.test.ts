// A translated Responses answer echoes the request's tool settings (as api.openai.com does), not fixed values; and
// a length stop leaves the message it cut incomplete. The pure encoders, on a hand-written request and message.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AssistantMessage } from "@mariozechner/pi-ai";
import { parseResponsesRequest } from "../../src/gateway/responses-request.ts";
import { responsesBody } from "../../src/gateway/responses-response.ts";
import { ResponsesSseEncoder } from "../../src/gateway/responses-stream.ts";
import { mockAnswer } from "../helpers/assistant-message.ts";

const message = (stopReason: AssistantMessage["stopReason"]): AssistantMessage => mockAnswer("Partly", stopReason);
const READ = { type: "function", name: "read", parameters: { type: "object", properties: {} } };
const request = parseResponsesRequest({
  model: "auto-router/chat",
  input: "hi",
  tools: [{ type: "web_search" }, READ],
  tool_choice: "required",
  parallel_tool_calls: false,
  instructions: "Be brief.",
  max_output_tokens: 77,
  temperature: 0.3,
  top_p: 0.9,
  reasoning: { effort: "low" },
  text: { format: { type: "json_object" } },
  metadata: { run: "7" },
});

/** The response object of the stream's terminal event. */
function streamed(done: AssistantMessage): Record<string, unknown> {
  const encoder = new ResponsesSseEncoder("auto-router/chat", 0, false, request);
  const sse = encoder.encode({ type: "done", reason: done.stopReason as "stop", message: done });
  const last = sse.trim().split("\n\n").at(-1)!;
  return JSON.parse(last.slice(last.indexOf("data: ") + 6)).response;
}

describe("Responses answers echo the request's tool settings", () => {
  it("in the body and the stream: the tools served, tool_choice and parallel_tool_calls as sent", () => {
    for (const response of [
      responsesBody(message("stop"), "auto-router/chat", 0, false, false, request),
      streamed(message("stop")),
    ]) {
      assert.deepEqual(response.tools, [READ]);
      assert.equal(response.tool_choice, "required");
      assert.equal(response.parallel_tool_calls, false);
      // The other settings api.openai.com's response always carries.
      assert.deepEqual(
        [response.instructions, response.max_output_tokens, response.temperature, response.top_p, response.truncation],
        ["Be brief.", 77, 0.3, 0.9, "disabled"],
      );
      assert.deepEqual(response.reasoning, { effort: "low", summary: null });
      assert.deepEqual(response.text, { format: { type: "json_object" } });
      assert.deepEqual(response.metadata, { run: "7" });
    }
  });

  it("OpenAI's defaults for a request that sets none", () => {
    const plain = parseResponsesRequest({ model: "auto-router/chat", input: "hi" });
    const response = responsesBody(message("stop"), "auto-router/chat", 0, false, false, plain);
    assert.deepEqual([response.tools, response.tool_choice, response.parallel_tool_calls], [[], "auto", true]);
    assert.deepEqual(
      [response.instructions, response.max_output_tokens, response.temperature, response.top_p, response.reasoning],
      [null, null, 1, 1, { effort: null, summary: null }],
    );
    assert.deepEqual(response.text, { format: { type: "text" } });
  });

  it("a length stop's message is incomplete; another stop's completed", () => {
    const status = (response: Record<string, unknown>) => (response.output as { status: string }[])[0]!.status;
    assert.equal(status(responsesBody(message("length"), "m", 0, false, false, request)), "incomplete");
    assert.equal(status(streamed(message("length"))), "incomplete");
    assert.equal(status(responsesBody(message("stop"), "m", 0, false, false, request)), "completed");
  });
});

// The chat protocols as ChatProtocol entries: parsing, context translation and response encoding per protocol.
import type { ChatProtocol } from "./chat-handler.ts";
import { anthropicMessage, AnthropicStreamEncoder } from "./anthropic-response.ts";
import {
  anthropicToContext,
  anthropicRequestSchema,
  anthropicUntranslatable,
  interleavedThinking,
  parseAnthropicRequest,
  type AnthropicRequest,
} from "./anthropic-request.ts";
import { anthropicSettings, chatSettings, responsesSettings } from "./client-settings.ts";
import { openAICompletion, OpenAIStreamEncoder } from "./openai-response.ts";
import { ANTHROPIC_PASSTHROUGH } from "./passthrough-anthropic.ts";
import { OPENAI_CHAT_PASSTHROUGH } from "./passthrough-openai.ts";
import { RESPONSES_PASSTHROUGH } from "./passthrough-responses.ts";
import { openAIToContext, openAIUntranslatable, parseOpenAIRequest, type OpenAIRequest } from "./openai-request.ts";
import { parseResponsesRequest, responsesToContext, type ResponsesRequest } from "./responses-request.ts";
import { asksSummary, responsesBody } from "./responses-response.ts";
import { ResponsesSseEncoder } from "./responses-stream.ts";
import { issuedReasoning, replayedReasoning } from "./responses-reasoning.ts";
import { ignoredToolsHeader } from "./hosted-tools.ts";

/** The keep-alive api.anthropic.com itself sends while a model thinks; the SDKs pass over it. */
const ANTHROPIC_PING = 'event: ping\ndata: {"type": "ping"}\n\n';
/** A comment line, which every SSE parser skips (OpenAI sends no keep-alive of its own). */
const SSE_COMMENT = ": keep-alive\n\n";

export const ANTHROPIC_MESSAGES: ChatProtocol<AnthropicRequest> = {
  protocol: "anthropic",
  parse: (body, headers) => parseAnthropicRequest(body, anthropicRequestSchema, interleavedThinking(headers)),
  model: (request) => request.model,
  provider: (request) => request.provider,
  streaming: (request) => request.stream === true,
  toContext: anthropicToContext,
  settings: anthropicSettings,
  encoder: (_request, model) => new AnthropicStreamEncoder(model),
  keepAlive: ANTHROPIC_PING,
  body: (message, model, _now, _request, refused) => anthropicMessage(message, model, undefined, refused),
  passthrough: ANTHROPIC_PASSTHROUGH,
  // An Anthropic target sent the client's own body runs its server tools; a translation leaves them out.
  headers: (request, sentAsIs) => (sentAsIs ? {} : ignoredToolsHeader(request.ignoredTools)),
  untranslatable: anthropicUntranslatable,
};

export const OPENAI_CHAT: ChatProtocol<OpenAIRequest> = {
  protocol: "openai",
  parse: parseOpenAIRequest,
  model: (request) => request.model,
  provider: (request) => request.provider,
  streaming: (request) => request.stream === true,
  toContext: openAIToContext,
  settings: chatSettings,
  encoder: (request, model, now) => new OpenAIStreamEncoder(model, now, request.stream_options?.include_usage === true),
  keepAlive: SSE_COMMENT,
  body: (message, model, now, _request, refused) => openAICompletion(message, model, now, refused),
  passthrough: OPENAI_CHAT_PASSTHROUGH,
  // A Chat target sent the client's own body gets its custom tools; a translation leaves them out.
  headers: (request, sentAsIs) => (sentAsIs ? {} : ignoredToolsHeader(request.ignoredTools)),
  untranslatable: openAIUntranslatable,
};

export const OPENAI_RESPONSES: ChatProtocol<ResponsesRequest> = {
  protocol: "openai",
  parse: parseResponsesRequest,
  model: (request) => request.model,
  provider: (request) => request.provider,
  streaming: (request) => request.stream === true,
  toContext: responsesToContext,
  settings: responsesSettings,
  encoder: (request, model, now) => new ResponsesSseEncoder(model, now, asksSummary(request.reasoning), request),
  keepAlive: SSE_COMMENT,
  body: (message, model, now, request, refused) =>
    responsesBody(message, model, now, asksSummary(request.reasoning), refused, request),
  passthrough: RESPONSES_PASSTHROUGH,
  // Encrypted reasoning is readable only by the account that issued it (reasoning-issuers.ts).
  replayedReasoning: (request) => replayedReasoning(request.input),
  issuedReasoning,
  untranslatable: (request) => request.untranslatable,
  // A request with a hosted tool is always translated (RESPONSES_PASSTHROUGH.fits); one with custom tools only is
  // sent as it is to a Responses target, which gets them, and translated (leaving them out) for another.
  headers: (request, sentAsIs) => (sentAsIs ? {} : ignoredToolsHeader(request.ignoredTools)),
};

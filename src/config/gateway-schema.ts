// The `gateway` section of the routes file: what `pi-auto-router serve` adds to the shared config.
import { z } from "zod";

/** A silent streamed answer gets a keep-alive this often (the gateway's chat-handler.ts openStream). */
export const DEFAULT_KEEP_ALIVE_MS = 15_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

/** setTimeout's longest delay (2^31 - 1 ms, about 24.8 days): Node fires a longer one after 1 ms, with a warning. */
export const MAX_TIMER_MS = 2_147_483_647;
// A timeout past it would not be "very long" but immediate: every connection closed, a drain cut at once.
export const timerMs = (schema: z.ZodNumber) =>
  schema.max(MAX_TIMER_MS, {
    error: (issue) =>
      `expected a number of at most ${MAX_TIMER_MS} (ms, about 24.8 days: the longest timer Node keeps), got ${JSON.stringify(issue.input)}`,
  });

export const gatewaySchema = () =>
  z.strictObject({
    models: z
      .record(z.string().min(1), z.string().min(1))
      .optional()
      .describe(
        "Incoming model name -> auto-router/<route>, a route id, an alias or provider/model (e.g. Claude Code's model ids onto a route)",
      ),
    maxConcurrentRequests: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Requests served at once; more get 503 (default 64)"),
    bodyLimitBytes: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Largest request body; larger gets 413 (default 32 MiB)"),
    headersTimeoutMs: timerMs(z.number().int().positive())
      .optional()
      .describe("A client must send its headers within this time (default 30000)"),
    idleTimeoutMs: timerMs(z.number().int().positive())
      .optional()
      .describe("An idle connection is closed after this time (default 120000)"),
    keepAliveMs: timerMs(z.number().int().nonnegative())
      .optional()
      .describe(
        "A streamed answer silent this long (a target thinking without streaming its text) gets a keep-alive: Anthropic's ping event, an SSE comment for OpenAI (default 15000; 0 = off)",
      ),
    passthrough: z
      .boolean()
      .optional()
      .describe(
        "Send a request unchanged (model id and credentials swapped) to a target of the same API: Anthropic Messages to anthropic-messages, Chat Completions to openai-completions (default true; false translates every request through pi-ai)",
      ),
    drainTimeoutMs: timerMs(z.number().int().nonnegative())
      .optional()
      .describe("On SIGTERM, how long in-flight requests may finish (default 30000)"),
  });
export type GatewayConfig = z.infer<ReturnType<typeof gatewaySchema>>;

/** Per pi provider: which paths the gateway's wildcard proxy may forward to it, and what its units that are no tokens cost. */
export const proxyProvidersSchema = () =>
  z.record(
    z.string().min(1),
    z.strictObject({
      endpointPrefixes: z
        .array(
          z
            .string()
            .regex(/^\//, "a path prefix starts with /, e.g. /v1/embeddings")
            // A glob, a query or a fragment never matches: prefixes match the path (without its query) segment-wise.
            .regex(
              /^[^*?#]*$/,
              "expected a path prefix without `*`, `?` or `#` (it serves the path and every path under it, e.g. /v1/files)",
            ),
        )
        .optional()
        .describe(
          'Paths this provider serves through `pi-auto-router serve`\'s proxy, e.g. ["/v1/embeddings"]; [] accepts every path',
        ),
      unitPrices: z
        .record(z.string().min(1), z.number().nonnegative("expected a price of 0 or more: USD per unit"))
        .optional()
        .describe(
          'USD per billed unit that is no token, by the unit\'s name as the provider spells it, e.g. {"search_units": 0.002} (Cohere rerank) or {"seconds": 0.0001} (audio): an answer whose units all have a price is costed and counted in budgets',
        ),
    }),
  );

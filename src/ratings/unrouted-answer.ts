// An answer pi showed from a model chosen directly (`/model`, an alias naming one model), not through auto-router:
// `/auto-router rate` says that answer is not the one it rates.

export interface AnsweredMessage {
  role?: string;
  provider?: string;
  model?: string;
  stopReason?: string;
}

/**
 * The `provider/model` of an answer given while pi's model was not one of `routerProvider`'s; undefined for a routed
 * answer (which names the target that served it), an error, a stopped answer or another role.
 */
export function unroutedAnswerTarget(
  message: AnsweredMessage,
  selectedProvider: string | undefined,
  routerProvider: string,
): string | undefined {
  if (message.role !== "assistant" || !message.provider || !message.model) return undefined;
  if (selectedProvider === routerProvider || message.provider === routerProvider) return undefined;
  if (message.stopReason === "error" || message.stopReason === "aborted") return undefined;
  return `${message.provider}/${message.model}`;
}

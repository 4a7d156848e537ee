// What the APIs refuse about tools before a model is asked, checked here so that a translated request gets the same
// 400 naming the client's own field (a target of another API would refuse a result without its call in its own words,
// or quietly answer without the tool a forced choice named): a forced tool choice needs the tool (OpenAI's APIs), and a
// tool result answers a call made earlier in the conversation (theirs and Anthropic's).
import { GatewayError } from "./errors.ts";

export type ToolChoice = "auto" | "none" | "required" | { name: string };

/** Chat Completions (`{function:{name}}`) and Responses (`{name}`) tool choices. */
export function openAIToolChoice(value: unknown): ToolChoice | undefined {
  if (value === "auto" || value === "none" || value === "required") return value;
  if (typeof value !== "object" || value === null) return undefined;
  const choice = value as { type?: unknown; name?: unknown; function?: { name?: unknown } };
  if (choice.type !== "function") return undefined;
  const name = [choice.name, choice.function?.name].find((item) => typeof item === "string" && item.length > 0);
  return name ? { name: name as string } : undefined;
}

const invalid = (path: string, message: string) => new GatewayError(400, "invalid_request", `${path}: ${message}`);

/**
 * `tool_choice` "required" needs a tool, and a named function one of that name. `tools`: the body's tools as it came
 * (hosted tools included: a choice of one is not checked here); `nameOf` reads a function tool's name.
 */
export function checkToolChoice(choice: unknown, tools: unknown, nameOf: (tool: any) => unknown): void {
  const asked = openAIToolChoice(choice);
  if (asked === undefined || asked === "auto" || asked === "none") return;
  const list = Array.isArray(tools) ? tools : [];
  if (asked === "required") {
    if (list.length === 0) throw invalid("body.tool_choice", '"required" needs tools, and the body has none');
    return;
  }
  const names = list.map(nameOf).filter((name): name is string => typeof name === "string");
  if (!names.includes(asked.name))
    throw invalid(
      "body.tool_choice",
      `names the function ${JSON.stringify(asked.name)}, which body.tools does not hold (${names.length ? names.join(", ") : "no functions"})`,
    );
}

/** A tool result (`what`) answers a call made before it: `callsSoFar` holds the ids of the calls made up to it. */
export function checkToolResult(id: unknown, path: string, callsSoFar: ReadonlySet<string>, what: string): void {
  if (typeof id !== "string" || id === "") throw invalid(path, `a ${what} needs the id of the call it answers`);
  if (!callsSoFar.has(id))
    throw invalid(path, `${JSON.stringify(id)} answers no tool call made earlier in the conversation`);
}

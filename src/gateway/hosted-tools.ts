// Tools a routed model cannot call: hosted (Responses) or server (Anthropic Messages) tools run on the provider's
// servers, and a translation has no form for them (nor for Chat's custom tools, whose input is free text). Each
// endpoint leaves them out the same way and names them.
import { headerText } from "./header-text.ts";

export type ToolShape = { type?: unknown; name?: unknown } | undefined;

/** A tool left out of a translated request: its type, and its name when it has one. */
export type IgnoredTool = { type: string; name?: string };

/**
 * The body with only the tools a routed model can call (`isModelTool`), and the others listed for
 * `x-auto-router-ignored-tools`: hosted tools run on the provider's servers, not on a model, and a translation has no
 * form for them. Shared by the Responses and Anthropic Messages endpoints.
 */
export function withoutHostedTools(
  body: unknown,
  isModelTool: (tool: ToolShape) => boolean,
  nameOf: (tool: ToolShape) => unknown = (tool) => tool?.name,
): { body: unknown; ignoredTools: IgnoredTool[] } {
  const ignoredTools: IgnoredTool[] = [];
  const tools = (body as { tools?: unknown })?.tools;
  if (!Array.isArray(tools)) return { body, ignoredTools };
  const served = tools.filter((tool: ToolShape) => {
    if (isModelTool(tool)) return true;
    const name = nameOf(tool);
    ignoredTools.push({ type: String(tool?.type), ...(typeof name === "string" ? { name } : {}) });
    return false;
  });
  return { body: ignoredTools.length ? { ...(body as object), tools: served } : body, ignoredTools };
}

/** `x-auto-router-ignored-tools`: each left-out tool as `type:name`, or its type alone. */
export const ignoredToolsHeader = (tools: readonly IgnoredTool[]): Record<string, string> =>
  tools.length
    ? {
        "x-auto-router-ignored-tools": headerText(
          tools.map((tool) => (tool.name ? `${tool.type}:${tool.name}` : tool.type)).join(", "),
        ),
      }
    : {};

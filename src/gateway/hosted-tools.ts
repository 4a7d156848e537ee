// Tools a routed model cannot call: hosted (Responses) or server (Anthropic Messages) tools run on the provider's
// servers, and a translation has no form for them. Both endpoints leave them out the same way and name them.

export type ToolShape = { type?: unknown; name?: unknown } | undefined;

/**
 * The body with only the tools a routed model can call (`isModelTool`), and the others named as `type:name` (or the
 * type alone) for `x-auto-router-ignored-tools`: hosted tools run on the provider's servers, not on a model, and a
 * translation has no form for them. Shared by the Responses and Anthropic Messages endpoints.
 */
export function withoutHostedTools(
  body: unknown,
  isModelTool: (tool: ToolShape) => boolean,
): { body: unknown; ignoredTools: string[] } {
  const ignoredTools: string[] = [];
  const tools = (body as { tools?: unknown })?.tools;
  if (!Array.isArray(tools)) return { body, ignoredTools };
  const served = tools.filter((tool: ToolShape) => {
    if (isModelTool(tool)) return true;
    ignoredTools.push(typeof tool?.name === "string" ? `${String(tool.type)}:${tool.name}` : String(tool?.type));
    return false;
  });
  return { body: ignoredTools.length ? { ...(body as object), tools: served } : body, ignoredTools };
}

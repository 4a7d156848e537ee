// The usage record at the end of a JSON text too long to keep whole: an OpenAI embeddings batch of thousands of
// vectors puts `usage` after them, Ollama's `/api/generate` its counts after the `context` token list. Only the text's
// tail is kept (proxy-usage-stream.ts); this finds the last record in it by its key and parses that object alone. The
// tail may start anywhere, inside a string or a number: a key with both its quotes unescaped cannot sit inside a
// string, so it is the document's own. Never throws: what it cannot read is no record.
import { type UsageRecord, usageRecord } from "./proxy-usage.ts";

/** The keys whose object value is a usage record (as usageRecord reads them), the last one in the text first. */
const OBJECT_KEY = /"(usage|usageMetadata|billed_units)"\s*:\s*\{/g;
/** Ollama's top-level counts. */
const OLLAMA_COUNT = /"(prompt_eval_count|eval_count)"\s*:\s*(\d+)/g;

/** The JSON object that starts at `start` (a `{`), to its matching `}`, or undefined when the text ends first. */
function objectAt(text: string, start: number): string | undefined {
  let depth = 0;
  let inString = false;
  for (let index = start; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === "\\") index++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{") depth++;
    else if (char === "}" && --depth === 0) return text.slice(start, index + 1);
  }
  return undefined;
}

/** The last usage record in the tail of a JSON text, or undefined. */
export function tailUsageRecord(tail: string): UsageRecord | undefined {
  try {
    const found = [...tail.matchAll(OBJECT_KEY)].at(-1);
    if (found) {
      const object = objectAt(tail, found.index + found[0].length - 1);
      if (object === undefined) return undefined;
      const fields = JSON.parse(object);
      return usageRecord(found[1] === "billed_units" ? { meta: { billed_units: fields } } : { [found[1]!]: fields });
    }
    const counts: Record<string, number> = {};
    for (const [, key, value] of tail.matchAll(OLLAMA_COUNT)) counts[key!] = Number(value);
    return usageRecord(counts);
  } catch {
    return undefined;
  }
}

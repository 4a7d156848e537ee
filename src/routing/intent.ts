// Intent of a prompt from cheap, explainable signals: whole words (never substrings: "capital" is not "api"),
// code structure (fences, calls, paths) and a few phrases. The confidence is used: below INTENT_HINT_CONFIDENCE
// the intent gives no tier hint. No vendor or model names appear here on purpose: the classifier says what the
// prompt is about, the config says who serves it.
import type { Intent } from "../config/routing-schema.ts";

/** Below this, the intent is shown in the trace but gives no tier hint. */
export const INTENT_HINT_CONFIDENCE = 0.6;
/** Only the start of a long prompt is read: the intent is stated there, and the classifier must stay cheap. */
const MAX_CLASSIFIED_CHARACTERS = 4_000;
/** Confidence of "general" when nothing points elsewhere: it is the fallback, not a finding. */
const GENERAL_CONFIDENCE = 0.5;

type ScoredIntent = Exclude<Intent, "general">;

const WORDS: ReadonlyMap<string, readonly [ScoredIntent, number]> = new Map<string, readonly [ScoredIntent, number]>([
  // code: strong words
  ...[
    "refactor",
    "refactoring",
    "debug",
    "debugging",
    "compile",
    "compiler",
    "stacktrace",
    "traceback",
    "segfault",
    "typescript",
    "javascript",
    "python",
    "golang",
    "rust",
    "java",
    "kotlin",
    "swift",
    "c++",
    "c#",
    "sql",
    "bash",
    "regex",
    "api",
    "endpoint",
    "repository",
    "repo",
    "git",
    "commit",
    "npm",
    "pip",
    "cargo",
    "dockerfile",
    "linter",
    "eslint",
    "tsconfig",
    "json",
    "yaml",
    "html",
    "css",
    "async",
    "await",
    "null",
    "undefined",
    "nullpointerexception",
    "codebase",
    "implement",
    "implementation",
    "unittest",
    "pytest",
    "typecheck",
  ].map((word) => [word, ["code", 2] as const] as const),
  // code: weak words (also everyday English)
  ...[
    "code",
    "function",
    "method",
    "class",
    "variable",
    "bug",
    "test",
    "tests",
    "script",
    "module",
    "library",
    "error",
    "exception",
    "build",
    "deploy",
    "server",
    "database",
    "query",
    "loop",
    "array",
    "string",
    "parse",
  ].map((word) => [word, ["code", 1] as const] as const),
  // creative
  ...[
    "poem",
    "poetry",
    "haiku",
    "sonnet",
    "lyrics",
    "story",
    "stories",
    "fiction",
    "novel",
    "screenplay",
    "slogan",
    "tagline",
    "limerick",
    "fairy",
    "rhyme",
    "metaphor",
    "brainstorm",
    "imaginative",
    "whimsical",
  ].map((word) => [word, ["creative", 2] as const] as const),
  ...["creative", "character", "plot", "narrative", "tale", "song", "joke", "imagine"].map(
    (word) => [word, ["creative", 1] as const] as const,
  ),
  // analysis
  ...[
    "analyze",
    "analyse",
    "analysis",
    "compare",
    "comparison",
    "evaluate",
    "evaluation",
    "assess",
    "tradeoff",
    "tradeoffs",
    "trade-off",
    "trade-offs",
    "prove",
    "proof",
    "derive",
    "theorem",
    "hypothesis",
    "statistics",
    "statistical",
    "regression",
    "critique",
    "implications",
    "reasoning",
  ].map((word) => [word, ["analysis", 2] as const] as const),
  ...[
    "why",
    "explain",
    "pros",
    "cons",
    "versus",
    "vs",
    "estimate",
    "calculate",
    "strategy",
    "risk",
    "risks",
    "investigate",
    "summarize",
    "summarise",
  ].map((word) => [word, ["analysis", 1] as const] as const),
]);

const WORD_PATTERN = /[a-z][a-z0-9+#-]*/g;
const CODE_FENCE = /```/;
/** `name(`, `a.b(`, `=>`, `::`, `{ ... }` with a semicolon: shapes that rarely occur outside code. */
const CODE_SHAPE = /\b[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\([^)]*\)|=>|::|;\s*$|\{[^}]*;[^}]*\}/m;
const SOURCE_PATH =
  /\b[\w./-]+\.(ts|tsx|js|mjs|cjs|py|rs|go|java|kt|rb|php|cs|cpp|cc|c|h|hpp|sh|sql|json|ya?ml|toml)\b/;

export interface IntentResult {
  intent: Intent;
  confidence: number;
}

/** Scores each intent; the confidence combines the winner's share of all signals with how much signal there was. */
export function classifyIntent(text: string): IntentResult {
  const sample = text.length > MAX_CLASSIFIED_CHARACTERS ? text.slice(0, MAX_CLASSIFIED_CHARACTERS) : text;
  let code = 0;
  let creative = 0;
  let analysis = 0;
  if (CODE_FENCE.test(sample)) code += 3;
  if (CODE_SHAPE.test(sample)) code += 2;
  if (SOURCE_PATH.test(sample)) code += 2;
  const lower = sample.toLowerCase();
  WORD_PATTERN.lastIndex = 0;
  for (let match = WORD_PATTERN.exec(lower); match !== null; match = WORD_PATTERN.exec(lower)) {
    let word = match[0];
    // Trailing `-` or `.`-less punctuation is not part of the word ("bug-" in "bug--fix").
    while (word.endsWith("-")) word = word.slice(0, -1);
    const entry = WORDS.get(word);
    if (!entry) continue;
    if (entry[0] === "code") code += entry[1];
    else if (entry[0] === "creative") creative += entry[1];
    else analysis += entry[1];
  }
  const total = code + creative + analysis;
  if (total === 0) return { intent: "general", confidence: GENERAL_CONFIDENCE };
  let intent: ScoredIntent = "code";
  let top = code;
  if (analysis > top) {
    intent = "analysis";
    top = analysis;
  }
  if (creative > top) {
    intent = "creative";
    top = creative;
  }
  const share = top / total;
  // 1 weak word -> ~0.39, 2 -> ~0.63, a code fence -> ~0.78: one everyday word is not enough for a hint.
  const strength = 1 - Math.exp(-top / 2);
  return { intent, confidence: Math.round(share * strength * 100) / 100 };
}

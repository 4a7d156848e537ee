// The classifier's reading of quota words (part of the one classifier, classify-failure.ts): does an error text say a
// quota, a balance or credits ran out, as opposed to a rate limit that passes within the minute?

// "429 You exceeded your current quota, please check your plan and billing details." (OpenAI insufficient_quota)
// "You have hit your ChatGPT usage limit (plus plan). Try again in ~42 min." (Codex, pi-ai friendly message)
// "400 {"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API..."}}"
// "402 Insufficient Balance" (DeepSeek), "402 This request requires more credits..." (OpenRouter),
// "403 Key limit exceeded (monthly limit). Manage it using https://openrouter.ai/settings/keys" (an OpenRouter key's
// spending cap: the key is good, its money is spent)
const QUOTA_TEXT =
  /\bquota\b|insufficient[_ ]quota|usage[_ ]?limit|billing|\bcredits?\b|insufficient[_ ](?:balance|funds)|balance is too low|\bkey limit exceeded\b/i;
// Words that name a quota without saying one is used up: Google's generic RESOURCE_EXHAUSTED text "Resource has been
// exhausted (e.g. check quota)." (Vertex AI's answer to a burst on shared capacity, gone within the minute), and links:
// per-minute limits point at a billing page ("... Please try again in 2.5s. Need more tokens? Upgrade to Dev Tier today
// at https://console.groq.com/settings/billing", OpenAI's free tier "... add a payment method ... at
// https://platform.openai.com/account/billing").
const QUOTA_ASIDE = /\(e\.g\.,? check quota\)|\bhttps?:\/\/\S+/gi;
// A quota whose window is a minute is a rate limit, gone within it: Vertex AI's "429 Quota exceeded for
// aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model with base model: ...".
const MINUTE_WINDOW_TEXT = /_per_minute(?:_|\b)|\bper minute\b/i;
// Gemini's 429 RESOURCE_EXHAUSTED says "You exceeded your current quota" whatever the window, and names each limit it
// enforced in a quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
// "GenerateContentInputTokensPerModelPerMinute-FreeTier" (a rate limit, with a retryDelay of seconds) or
// "GenerateRequestsPerDayPerProjectPerModel-FreeTier" (a quota until Google's midnight, retry-hint.ts). One body may
// name both; the day's limit then decides, as it outlasts the minute. (Read in the whole text: the link to its docs
// earlier in the body, taken out as an aside with everything up to the next space, would take the quotaIds along.)
const MINUTE_QUOTA_ID = /"quotaId"\s*:\s*"[^"]*PerMinute/i;
const DAY_QUOTA_ID = /"quotaId"\s*:\s*"[^"]*PerDay/i;
// A limit per day is a quota, whatever word it uses: "429 Rate limit exceeded: free-models-per-day." (OpenRouter),
// "429 Rate limit reached for model `x` ... on tokens per day (TPD): ... Please try again in 7m12.5s." (Groq), OpenAI's
// "... on requests per day (RPD) ...". Retried each minute it only fails again; a stated time still sets the rest.
const DAY_WINDOW_TEXT = /\bper[ _-]day\b/i;

/**
 * Does the text say a quota, a balance or credits ran out? (A daily limit; quota words, less asides and links, unless
 * per minute.)
 */
export function saysQuota(text: string): boolean {
  const words = text.replace(QUOTA_ASIDE, "");
  if (DAY_WINDOW_TEXT.test(words) || DAY_QUOTA_ID.test(text)) return true;
  return QUOTA_TEXT.test(words) && !MINUTE_WINDOW_TEXT.test(words) && !MINUTE_QUOTA_ID.test(text);
}

// Quota pacing's settings (defaults < config `uvi` block < environment) and the service `/auto-router uvi` and
// `/auto-router health` read.
import { readSwitch } from "../config/environment.ts";
import { readUviConfig } from "../config/quota-schema.ts";
import { GLOBAL_SETTINGS_FILE, type PiSettings } from "../state/pi-settings.ts";
import { DEFAULT_UVI_THRESHOLDS, type QuotaAssessment, type UviThresholds } from "../routing/uvi.ts";
import { DEFAULT_QUOTA_TTL_MS, type SourceCache } from "./source-cache.ts";
import { USAGE_API_PROVIDERS, type UsageApiProvider } from "./usage-sources.ts";

export interface UviSettings {
  enabled: boolean;
  /**
   * The variable as set when it turns pacing off (`AUTO_ROUTER_UVI=0`, `=off`, ...): off whatever `/auto-router uvi
   * enable` stored (a teammate's, in team mode, too).
   */
  forcedOff?: string;
  /**
   * Where `enabled` comes from when something set it (the routes file's `uvi.enabled`, or the earlier pi-auto-router's
   * `autoRouterUviEnabled` in pi's settings.json or the project's `.pi/settings.json`); undefined for the default.
   */
  enabledBy?: string;
  hard: boolean;
  thresholds: UviThresholds;
  ttlMs: number;
  endpoints: Partial<Record<UsageApiProvider, string>>;
}

const ENDPOINT_ENV: Record<UsageApiProvider, string> = {
  anthropic: "AUTO_ROUTER_ANTHROPIC_USAGE_URL",
  "openai-codex": "AUTO_ROUTER_CODEX_USAGE_URL",
  "google-gemini-cli": "AUTO_ROUTER_GEMINI_QUOTA_URL",
};
const ENDPOINT_CONFIG_KEY: Record<UsageApiProvider, "anthropic" | "codex" | "gemini"> = {
  anthropic: "anthropic",
  "openai-codex": "codex",
  "google-gemini-cli": "gemini",
};

/**
 * Defaults < pi's settings `autoRouterUviEnabled` (where the earlier pi-auto-router kept its switch) < config
 * `uvi` block < environment (AUTO_ROUTER_UVI=0, AUTO_ROUTER_UVI_HARD=1, endpoint URLs).
 */
export function uviSettings(
  config: unknown,
  processEnv: Record<string, string | undefined>,
  piSettings: PiSettings = { values: {}, fileOf: () => GLOBAL_SETTINGS_FILE },
): UviSettings {
  const block = readUviConfig(config);
  const thresholds: UviThresholds = { ...DEFAULT_UVI_THRESHOLDS };
  for (const key of ["critical", "stressed", "surplus", "surplusElapsed"] as const) {
    const value = block.thresholds?.[key];
    if (value !== undefined) thresholds[key] = value;
  }
  const endpoints: UviSettings["endpoints"] = {};
  for (const provider of USAGE_API_PROVIDERS) {
    const url = processEnv[ENDPOINT_ENV[provider]] || block.endpoints?.[ENDPOINT_CONFIG_KEY[provider]];
    if (url) endpoints[provider] = url;
  }
  const forcedOff =
    readSwitch("AUTO_ROUTER_UVI", processEnv.AUTO_ROUTER_UVI).on === false
      ? `AUTO_ROUTER_UVI=${processEnv.AUTO_ROUTER_UVI!.trim()}`
      : undefined;
  const legacyValue = piSettings.values.autoRouterUviEnabled;
  const legacySwitch = typeof legacyValue === "boolean" ? legacyValue : undefined;
  const enabledBy =
    block.enabled !== undefined
      ? `uvi.enabled: ${block.enabled} in the routes file`
      : legacySwitch !== undefined
        ? `autoRouterUviEnabled: ${legacySwitch} in ${piSettings.fileOf("autoRouterUviEnabled")} (the earlier pi-auto-router's switch)`
        : undefined;
  return {
    forcedOff,
    enabledBy,
    enabled: forcedOff ? false : (block.enabled ?? legacySwitch ?? true),
    hard: readSwitch("AUTO_ROUTER_UVI_HARD", processEnv.AUTO_ROUTER_UVI_HARD).on === true || block.hard === true,
    thresholds,
    ttlMs: block.ttlMs ?? DEFAULT_QUOTA_TTL_MS,
    endpoints,
  };
}

export interface QuotaService {
  settings(): UviSettings;
  /** Off under AUTO_ROUTER_UVI=0; else as /auto-router uvi enable|disable set it, else from settings. */
  enabled(): boolean;
  /** Why pacing is off (the variable, `/auto-router uvi disable`, the routes file or pi's settings), when it is. */
  disabledBy?(): string | undefined;
  setEnabled(enabled: boolean): void;
  assess(now: number): Record<string, QuotaAssessment>;
  sources(): SourceCache;
  refresh(): Promise<void>;
}

// Pinning an aggregator's upstream for the session (failover.pinUpstream, on by default). OpenRouter may serve each
// request of one model from a different upstream (Anthropic, Bedrock, Vertex ...), which throws away the prompt cache
// and the upstream-bound encrypted reasoning on every switch. After the session's first answer from an OpenRouter
// target, the router asks OpenRouter which upstream served it (GET <baseUrl>/generation?id=<response id>, with the
// target's own key) and from then on sends `provider: {order: [upstream], allow_fallbacks: false}` with that
// target's attempts. When the pinned upstream fails, the pin is dropped (a "pin break") and the router's own
// failover moves on; the next answer from the target pins again.
import type { Api, Model } from "@mariozechner/pi-ai";
import { z } from "zod";
import { isObject } from "../is-object.ts";
import { lazy } from "../lazy.ts";
import { mergeBody, type RequestPatch } from "./request-patch.ts";

/** OpenRouter files a generation's stats a moment after the stream ends: ask again after these pauses. */
export const GENERATION_LOOKUP_DELAYS_MS = [300, 1_000, 3_000] as const;
const LOOKUP_TIMEOUT_MS = 10_000;

/** The same test pi-ai uses to speak OpenRouter's dialect. */
export function isOpenRouter(model: Pick<Model<Api>, "provider" | "baseUrl" | "api">): boolean {
  return (
    model.api === "openai-completions" && (model.provider === "openrouter" || model.baseUrl.includes("openrouter.ai"))
  );
}

const pinBlock = (upstream: string) => ({ order: [upstream], allow_fallbacks: false });

/**
 * The upstream of each patch pinnedPatch made: a passthrough that sends no target patch but the client's own body (the
 * wildcard proxy) is handed the patch all the same, and adds the pin alone (pinnedProvider).
 */
const patchPins = new WeakMap<RequestPatch, string>();

/** The target's own patch with the pin's provider block merged in (the target's other body fields stay). */
export function pinnedPatch(patch: RequestPatch | undefined, upstream: string): RequestPatch {
  const pinned = {
    ...patch,
    body: mergeBody(patch?.body ?? {}, { provider: pinBlock(upstream) }) as Record<string, unknown>,
  };
  patchPins.set(pinned, upstream);
  return pinned;
}

/** The upstream a patch pins (one pinnedPatch made), or undefined. */
export function patchPin(patch: RequestPatch | undefined): string | undefined {
  return patch && patchPins.get(patch);
}

/** A body's `provider` block with the pin merged in: its other keys (the client's own preferences) stay. */
export function pinnedProvider(provider: unknown, upstream: string): Record<string, unknown> {
  return mergeBody(isObject(provider) ? provider : {}, pinBlock(upstream)) as Record<string, unknown>;
}

/** OpenRouter's generation answer: built on the first pin lookup (only sessions with an OpenRouter target make one). */
const generationSchema = lazy(() => z.object({ data: z.object({ provider_name: z.string().min(1) }) }));

export interface LookupInput {
  baseUrl: string;
  apiKey: string | undefined;
  generationId: string;
  fetch?: typeof fetch;
  sleep: (ms: number) => Promise<unknown>;
}

/** The name of the upstream that served a generation, or undefined when OpenRouter does not say (yet). Never throws. */
export async function lookupUpstream(input: LookupInput): Promise<string | undefined> {
  const url = `${input.baseUrl.replace(/\/+$/, "")}/generation?id=${encodeURIComponent(input.generationId)}`;
  const headers: Record<string, string> = input.apiKey ? { authorization: `Bearer ${input.apiKey}` } : {};
  for (const delay of GENERATION_LOOKUP_DELAYS_MS) {
    await input.sleep(delay);
    try {
      const response = await (input.fetch ?? fetch)(url, { headers, signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS) });
      if (response.ok) {
        const parsed = generationSchema().safeParse(await response.json());
        return parsed.success ? parsed.data.data.provider_name : undefined;
      }
      await response.body?.cancel();
      if (response.status !== 404) return undefined; // 404: not filed yet; anything else will not get better
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The pins of the current session: target key -> upstream name. A new session starts without pins. */
export class UpstreamPins {
  private session: string | undefined;
  private readonly pins = new Map<string, string>();
  private readonly lookups = new Set<string>();

  constructor(private readonly currentSession: () => string) {}

  private sync(): void {
    const session = this.currentSession();
    if (session === this.session) return;
    this.session = session;
    this.pins.clear();
    this.lookups.clear();
  }

  get(key: string): string | undefined {
    this.sync();
    return this.pins.get(key);
  }

  /** True when the caller should look the upstream up (no pin and no lookup running); marks the lookup as running. */
  claimLookup(key: string): boolean {
    this.sync();
    if (this.pins.has(key) || this.lookups.has(key)) return false;
    this.lookups.add(key);
    return true;
  }

  /** The lookup of `session` ended; a pin found for a session that has since ended is dropped. */
  settleLookup(session: string, key: string, upstream: string | undefined): boolean {
    this.sync();
    if (session !== this.session) return false;
    this.lookups.delete(key);
    if (upstream === undefined) return false;
    this.pins.set(key, upstream);
    return true;
  }

  /** Drops the pin after its upstream failed; returns the upstream it was pinned to. */
  drop(key: string): string | undefined {
    this.sync();
    const upstream = this.pins.get(key);
    this.pins.delete(key);
    return upstream;
  }

  sessionId(): string {
    this.sync();
    return this.session!;
  }
}

export interface PinLookupSite {
  pins: UpstreamPins;
  sleep(ms: number): Promise<unknown>;
  /** Logs the `pin` event of the request that served the looked-up answer. */
  pinned(upstream: string): void;
  fetch?: typeof fetch;
}

/** After an answer from an unpinned OpenRouter target: find its upstream in the background and pin it. */
export function pinAfterAnswer(
  site: PinLookupSite,
  key: string,
  baseUrl: string,
  apiKey: string | undefined,
  generationId: string | undefined,
): void {
  if (!generationId || !site.pins.claimLookup(key)) return;
  const session = site.pins.sessionId();
  void lookupUpstream({ baseUrl, apiKey, generationId, fetch: site.fetch, sleep: site.sleep }).then((upstream) => {
    if (site.pins.settleLookup(session, key, upstream) && upstream) site.pinned(upstream);
  });
}

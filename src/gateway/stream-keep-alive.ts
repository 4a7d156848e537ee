// A client's event stream that the target leaves silent gets a keep-alive now and then (Anthropic's `ping` event, an
// SSE comment for OpenAI): a model thinking without streaming its text would otherwise look like a dead connection to
// the client, a proxy between, or the gateway's own idle timeout. The translated stream (chat-handler.ts) and the
// passthrough (passthrough-reply.ts) both use it.
import type { ServerResponse } from "node:http";

export class StreamKeepAlive {
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Something went out since the timer last looked. */
  private sent = true;

  /** `write` sends the keep-alive itself, in order with the stream's own writes; `everyMs` 0 = never. */
  constructor(raw: ServerResponse, everyMs: number, write: () => void) {
    if (everyMs <= 0) return;
    this.timer = setInterval(() => {
      if (!this.sent && !raw.writableEnded && !raw.destroyed) write();
      this.sent = false;
    }, everyMs);
    this.timer.unref();
    raw.once("close", this.stop);
  }

  /** The stream wrote something of its own. */
  wrote(): void {
    this.sent = true;
  }

  readonly stop = (): void => clearInterval(this.timer);
}

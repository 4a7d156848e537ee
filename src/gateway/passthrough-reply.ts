// The client's side of a passthrough attempt. A stream is opened at the commit point and gets the target's blocks as
// they come; a non-streaming client gets its whole body at the end (an attempt that breaks off before fails over, so
// it is never cut off). An answer cut off after the commit point ends the stream with the protocol's error block, as
// on the translating path. Either is scrubbed of the credentials the router knows on its way (secret-scrub.ts), a
// stream's text also across the events it is streamed in (streamed-values-scrub.ts).
import type { FastifyReply } from "fastify";
import type { IncomingMessage } from "node:http";
import { rememberedCredentialValues } from "../state/remembered-credentials.ts";
import { TextScrub } from "../state/secret-scan.ts";
import { StreamedValuesScrub } from "./streamed-values-scrub.ts";
import { StreamKeepAlive } from "./stream-keep-alive.ts";

export class PassthroughReply {
  private draining = false;
  /** Text written since the last flush, and the upstream to pause if the client's socket fills. */
  private buffered = "";
  private source: IncomingMessage | undefined;
  private flushQueued = false;
  private readonly scrub: TextScrub;
  /** A streaming client's answer text read across events (absent: none to scrub, or the scanner reads it). */
  private readonly values: StreamedValuesScrub | undefined;
  private keepAliveTimer: StreamKeepAlive | undefined;

  constructor(
    private readonly reply: FastifyReply,
    private readonly streaming: boolean,
    /** The routing headers at the moment the status is sent. */
    private readonly headers: () => Record<string, string>,
    /** Written (between whole blocks) when the stream has been silent this long; see chat-handler.ts openStream. */
    private readonly keepAlive?: { text: string; everyMs: number },
    /** PassthroughDialect.streamedValues. */
    streamedValues?: RegExp,
  ) {
    const secrets = rememberedCredentialValues();
    this.scrub = new TextScrub(secrets);
    this.values =
      streaming && streamedValues && secrets.length > 0 ? new StreamedValuesScrub(secrets, streamedValues) : undefined;
  }

  /** The commit point: a stream's status and headers go out now. */
  open(): void {
    if (!this.streaming) return;
    this.head(200, "text/event-stream; charset=utf-8");
    const keepAlive = this.keepAlive;
    if (!keepAlive) return;
    // Written between whole blocks (what is buffered goes first), not counted as the stream's own output.
    this.keepAliveTimer = new StreamKeepAlive(this.reply.raw, keepAlive.everyMs, () => {
      this.write(keepAlive.text, undefined);
      this.flush();
    });
  }

  private stopKeepAlive(): void {
    this.keepAliveTimer?.stop();
  }

  /**
   * Forwards blocks of a stream; pauses the upstream while the client's socket is full. What is written in one turn
   * of the event loop goes out as one write, once that turn's callbacks are done: an upstream that sends each event
   * as its own HTTP chunk hands them over as separate 'data' events of the same socket read, and one write per event
   * cost a pass through Node's HTTP write path and a chunk header each (the client parses one chunk instead of N).
   */
  write(text: string, source: IncomingMessage | undefined): void {
    if (!this.streaming || text === "") return;
    this.buffered += text;
    if (source) this.source = source;
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(this.flushFromQueue);
  }

  complete(body: () => string): void {
    this.stopKeepAlive();
    this.flush();
    if (!this.streaming) this.head(200, "application/json");
    this.reply.raw.end(this.streaming ? this.ended() : this.scrub.take(body()) + this.scrub.end());
  }

  private readonly flushFromQueue = () => {
    this.flushQueued = false;
    this.flush();
  };

  private flush(): void {
    if (this.buffered === "") return;
    const text = this.scrub.take(this.values ? this.values.take(this.buffered) : this.buffered);
    this.buffered = "";
    const raw = this.reply.raw;
    if (text === "" || raw.destroyed || raw.writableEnded) return;
    this.keepAliveTimer?.wrote();
    const source = this.source;
    if (!raw.write(text) && source && !this.draining) {
      this.draining = true;
      source.pause();
      raw.once("drain", () => {
        this.draining = false;
        source.resume();
      });
    }
  }

  /** `block`: the error block a stream ends with (the target's own, redacted, or the router's). */
  cutOff(block: string): void {
    this.stopKeepAlive();
    this.write(block, undefined);
    this.flush();
    this.reply.raw.end(this.ended());
  }

  /** What waited for the text after it, scrubbed: the stream ends here. */
  private ended(): string {
    const held = this.values?.end() ?? "";
    return (held === "" ? "" : this.scrub.take(held)) + this.scrub.end();
  }

  private head(status: number, contentType: string): void {
    this.reply.hijack();
    const raw = this.reply.raw;
    raw.setHeader("content-type", contentType);
    if (this.streaming) raw.setHeader("cache-control", "no-cache");
    for (const [name, value] of Object.entries(this.headers())) raw.setHeader(name, value);
    raw.writeHead(status);
  }
}

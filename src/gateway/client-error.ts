// Errors Node's HTTP parser meets before there is a request to route (headers over Node's size limit, headers that
// did not arrive within gateway.headersTimeoutMs, a malformed request): fastify would answer them in a JSON shape of
// its own and write no access line. They are answered in the gateway's error shape (Anthropic's for /v1/messages,
// OpenAI's otherwise), the connection is closed, and the access line is written as far as the request is known.
import { maxHeaderSize, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { shownPath } from "./access-log.ts";
import { categoryOf, errorBody } from "./errors.ts";

/** The method and path (as logged: shownPath) of the request line, when the bytes the parser failed on begin with it. */
function requestLine(rawPacket: unknown): { method: string; path: string } | undefined {
  if (!Buffer.isBuffer(rawPacket)) return undefined;
  const match = /^([A-Z]+) (\S+) HTTP\/\d\.\d\r?\n/.exec(rawPacket.toString("latin1", 0, 8_192));
  if (!match) return undefined;
  return { method: match[1]!, path: shownPath(match[2]!) };
}

function answerOf(error: NodeJS.ErrnoException): { status: number; message: string } {
  if (error.code === "HPE_HEADER_OVERFLOW")
    return {
      status: 431,
      message: `request headers are larger than the gateway accepts (${maxHeaderSize} bytes in all: Node's --max-http-header-size); send smaller headers`,
    };
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT")
    return {
      status: 408,
      message: "the request's headers did not arrive within the gateway's headers timeout (gateway.headersTimeoutMs)",
    };
  return { status: 400, message: `malformed HTTP request (${error.code ?? "parse error"})` };
}

/** fastify's clientErrorHandler: the error in the gateway's shape, and an access line. */
export function clientErrorHandler(log: (line: string) => void) {
  return (error: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Socket): void => {
    // A connection reset: nothing to answer, nobody to tell.
    if (error.code === "ECONNRESET" || socket.destroyed) return;
    // Closed by its client before its request ended (an upload it cancelled, whose request has an access line of its
    // own, `no-answer`): no malformed request, and nobody to answer; closing the socket ends that request.
    if (error.code === "HPE_INVALID_EOF_STATE") return void socket.destroy();
    const { status, message } = answerOf(error);
    const request = requestLine(error.rawPacket);
    const protocol = request?.path.startsWith("/v1/messages") ? "anthropic" : "openai";
    const body = JSON.stringify(errorBody(protocol, categoryOf(status), message));
    if (socket.writable)
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    socket.destroy();
    log(`${request?.method ?? "-"} ${request?.path ?? "-"} ${status} ${message.split(" (")[0]}`);
  };
}

// What a drain closes as it goes: every connection with no request under way. Node's closeIdleConnections() misses the
// connections a client opened and has sent nothing on yet (connection pools open them ahead of use; Node counts them
// as active), and those held a drain open until its deadline. Each connection is tracked from accept to close: a cost
// per connection, none per request.
import type { Server } from "node:http";
import type { Socket } from "node:net";

export interface ConnectionSweeper {
  /** Closes each connection that has no request under way: kept alive after its last answer, or never used. */
  closeUnused(): void;
}

export function trackConnections(server: Server): ConnectionSweeper {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return {
    closeUnused() {
      // Node's http server sets `_httpMessage` to the response of the request under way (from its headers until the
      // answer ends) and clears it after: the test Node's own closeIdleConnections() makes.
      for (const socket of sockets) if (!(socket as { _httpMessage?: unknown })._httpMessage) socket.destroy();
    },
  };
}

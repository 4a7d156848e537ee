// A TCP front for an emulator that can refuse connections for real: while "refusing" its listening socket is closed
// (the client gets ECONNREFUSED, as from a provider that is down) and every open connection is cut, so a pooled
// keep-alive socket cannot slip past. An emulator alone cannot do this per call: it has to accept to see a request.
import { createServer, connect, type Socket } from "node:net";

export interface ConnectionGate {
  port: number;
  /** The emulator's base URL with the gate's port instead of the emulator's. */
  url(emulatorUrl: string): string;
  refuse(): Promise<void>;
  accept(): Promise<void>;
  close(): Promise<void>;
}

const HOST = "127.0.0.1";

export async function startConnectionGate(targetPort: number): Promise<ConnectionGate> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, HOST);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", cut);
    upstream.on("error", cut);
    client.on("close", () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on("close", () => {
      sockets.delete(upstream);
      // Let what the emulator wrote drain to the client first (pipe ends it); a close without end is cut at once.
      if (!client.writableEnded) client.destroy();
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, HOST, () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as { port: number }).port;
  let listening = true;
  const stopListening = async () => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    port,
    url: (emulatorUrl) => emulatorUrl.replace(/:\d+/, `:${port}`),
    refuse: stopListening,
    accept: async () => {
      if (listening) return;
      await listen(port);
      listening = true;
    },
    close: stopListening,
  };
}

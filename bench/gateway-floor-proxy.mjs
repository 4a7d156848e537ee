// The floor for any Node gateway on this machine: node:http in, node:http out (keep-alive), bytes piped both ways,
// nothing decoded, no routing. The gateway bench runs it as its own process in front of the same emulator, so its
// figures say how much of the goals is left for routing at all.
//   node bench/gateway-floor-proxy.mjs <upstream origin> <upstream x-api-key>
import { Agent, createServer, request } from "node:http";

const [origin, apiKey] = process.argv.slice(2);
const upstream = new URL(origin);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const server = createServer((incoming, answer) => {
  const headers = { ...incoming.headers, host: upstream.host, "x-api-key": apiKey };
  const outgoing = request(
    { host: upstream.hostname, port: upstream.port, path: incoming.url, method: incoming.method, headers, agent },
    (response) => {
      answer.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(answer);
    },
  );
  outgoing.on("error", () => answer.destroy());
  incoming.pipe(outgoing);
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));

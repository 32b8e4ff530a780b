// Minimal HTTP/1.1 reverse proxy that holds every request for DELAY_MS before
// forwarding it, to model the round trip to S3 in a region. Each request pays the
// delay once, whatever the client; bodies stream in both directions.
// Usage: node latency_proxy.mjs <listen port> <upstream port> <delay ms>
import http from "node:http";

const [listenPort, upstreamPort, delayMs] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
let count = 0;

const server = http.createServer((req, res) => {
  count++;
  setTimeout(() => {
    const up = http.request({
      host: "127.0.0.1", port: upstreamPort, method: req.method, path: req.url,
      headers: req.headers, agent,
    }, (ur) => {
      res.writeHead(ur.statusCode, ur.statusMessage, ur.rawHeaders);
      ur.pipe(res);
    });
    up.on("error", (e) => {
      if (!res.headersSent) { res.writeHead(502); }
      res.end(String(e));
    });
    req.pipe(up);
  }, delayMs);
});
server.keepAliveTimeout = 75_000;
server.headersTimeout = 80_000;
server.requestTimeout = 0;
server.listen(listenPort, "127.0.0.1", () =>
  console.log(`latency proxy :${listenPort} -> :${upstreamPort} (+${delayMs} ms per request)`));
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => { console.log(`requests proxied: ${count}`); process.exit(0); });
}

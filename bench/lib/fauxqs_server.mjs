// Starts fauxqs (from tests/peers) with request logging off, in memory, body cap lifted.
// The package's own CLI always logs every request as JSON; for a benchmark that
// is CPU taken from the tools being measured.
// Usage: node22 fauxqs_server.mjs <path to fauxqs/dist/app.js>   (port in FAUXQS_PORT)
import { register } from "node:module";
import { pathToFileURL } from "node:url";

// Lift the 11 MiB body cap at load time (see lift_body_limit_hook.mjs).
register("./lift_body_limit_hook.mjs", import.meta.url);

const appJs = process.argv[2];
const { startFauxqs } = await import(pathToFileURL(appJs).href);
const server = await startFauxqs({ logger: false });
console.log(`fauxqs listening on port ${server.port}`);
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => { server.stop().finally(() => process.exit(0)); });
}

// Node module hook: loads fauxqs' dist/app.js with its request body cap raised from
// 11 MiB to 5 GiB (what S3 takes in one PUT), the change the peers reference makes with
// sed, but in memory (the test script may already have patched the shared install in tests/peers).
const FROM = "bodyLimit: 11 * 1_048_576";
const TO = "bodyLimit: 5120 * 1_048_576";

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!url.endsWith("/fauxqs/dist/app.js")) return result;
  const source = String(result.source);
  // scripts/test lifts the cap in the installed file itself; then there is nothing left to do.
  if (source.includes(TO)) return result;
  if (!source.includes(FROM)) {
    throw new Error(`fauxqs app.js no longer contains "${FROM}": check the body cap by hand`);
  }
  return { ...result, source: source.replace(FROM, TO) };
}

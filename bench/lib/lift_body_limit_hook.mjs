// Node module hook: loads fauxqs' dist/app.js with its request body cap raised from
// 11 MiB to 5 GiB (what S3 takes in one PUT), the change the peers reference makes with
// sed, but in memory: the shared install in tests/peers stays as it is for the tests.
const FROM = "bodyLimit: 11 * 1_048_576";
const TO = "bodyLimit: 5120 * 1_048_576";

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!url.endsWith("/fauxqs/dist/app.js")) return result;
  const source = String(result.source);
  if (!source.includes(FROM)) {
    throw new Error(`fauxqs app.js no longer contains "${FROM}": check the body cap by hand`);
  }
  return { ...result, source: source.replace(FROM, TO) };
}

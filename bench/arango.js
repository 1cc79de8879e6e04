#!/usr/bin/env node
// bench/arango.js — the arangojs side of bench/arango: requests/s of
// `RETURN 1` (POST /_api/cursor, rows read with cursor.all()) on one
// connection (poolSize 1, one request at a time) and on several (poolSize C,
// C requests in flight), best of 3 runs of each.
//
// usage: node arango.js URL USER PASSWORD REQUESTS CONNS MAX_SECONDS
// Run by bench/arango (posix_spawn) with NODE_PATH pointing at
// tests/peers/node_modules.  Prints one line:
//   JS one=<req/s> many=<req/s> version=<arangojs version>
// Every run stops after REQUESTS requests or MAX_SECONDS, whichever first;
// the whole script gives up after 8 * MAX_SECONDS + 30 s.
"use strict";

const { Database } = require("arangojs");

const [url, user, password, nArg, cArg, sArg] = process.argv.slice(2);
const total = Number(nArg);
const conns = Number(cArg);
const maxSeconds = Number(sArg);
if (!url || !(total > 0) || !(conns > 0) || !(maxSeconds > 0)) {
  console.error("usage: node arango.js URL USER PASSWORD REQUESTS CONNS MAX_SECONDS");
  process.exit(2);
}

const overall = setTimeout(() => {
  console.error("arango.js: timed out");
  process.exit(1);
}, (8 * maxSeconds + 30) * 1000);
overall.unref();

async function one(db) {
  const cursor = await db.query("RETURN 1");
  const rows = await cursor.all();
  if (rows.length !== 1 || rows[0] !== 1)
    throw new Error(`unexpected rows ${JSON.stringify(rows)}`);
}

// inflight workers each issue requests until `total` were started or the
// time is up; returns requests/s over the completed ones.
async function run(db, inflight) {
  let started = 0;
  let done = 0;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(maxSeconds * 1e9));
  async function worker() {
    while (started < total && process.hrtime.bigint() < deadline) {
      started++;
      await one(db);
      done++;
    }
  }
  const workers = [];
  for (let i = 0; i < inflight; i++) workers.push(worker());
  await Promise.all(workers);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return done / secs;
}

async function best(inflight) {
  const db = new Database({ url, auth: { username: user, password }, poolSize: inflight });
  const warm = [];
  for (let i = 0; i < inflight * 10; i++) warm.push(one(db));
  await Promise.all(warm);
  let bestRate = 0;
  for (let i = 0; i < 3; i++) bestRate = Math.max(bestRate, await run(db, inflight));
  db.close();
  return bestRate;
}

// arangojs's "exports" hides its package.json: find it above the entry point.
function arangojsVersion() {
  const fs = require("fs");
  const path = require("path");
  let dir = path.dirname(require.resolve("arangojs"));
  for (let i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
    if (pkg.name === "arangojs") return pkg.version;
  }
  return "?";
}

(async () => {
  const version = arangojsVersion();
  const oneRate = await best(1);
  const manyRate = await best(conns);
  console.log(`JS one=${oneRate.toFixed(1)} many=${manyRate.toFixed(1)} version=${version}`);
  process.exit(0);
})().catch((err) => {
  console.error(`arango.js: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});

#!/usr/bin/env node
// bench/gremlin.js — the gremlin npm driver's side of bench/gremlin:
// requests/s of `g.V().count()` through one driver Client (one WebSocket
// connection) with INFLIGHT requests outstanding at once, GraphBinary, best
// of 3 runs.
//
// usage: node gremlin.js WS_URL REQUESTS INFLIGHT MAX_SECONDS
// Run by bench/gremlin (posix_spawn) with NODE_PATH pointing at
// tests/peers/node_modules.  Prints one line:
//   JS rate=<req/s> cpu_us=<CPU us per request> version=<driver version>
// Every run stops after REQUESTS requests or MAX_SECONDS, whichever first;
// the whole script gives up after 4 * MAX_SECONDS + 30 s.
"use strict";

const gremlin = require("gremlin");

const [url, nArg, iArg, sArg] = process.argv.slice(2);
const total = Number(nArg);
const inflight = Number(iArg);
const maxSeconds = Number(sArg);
if (!url || !(total > 0) || !(inflight > 0) || !(maxSeconds > 0)) {
  console.error("usage: node gremlin.js WS_URL REQUESTS INFLIGHT MAX_SECONDS");
  process.exit(2);
}

const overall = setTimeout(() => {
  console.error("gremlin.js: timed out");
  process.exit(1);
}, (4 * maxSeconds + 30) * 1000);
overall.unref();

async function one(client) {
  const rs = await client.submit("g.V().count()");
  const v = rs.first();
  if (Number(v) !== 6) throw new Error(`unexpected result ${v}`);
}

async function run(client) {
  let started = 0;
  let done = 0;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const deadline = t0 + BigInt(Math.round(maxSeconds * 1e9));
  async function worker() {
    while (started < total && process.hrtime.bigint() < deadline) {
      started++;
      await one(client);
      done++;
    }
  }
  const workers = [];
  for (let i = 0; i < inflight; i++) workers.push(worker());
  await Promise.all(workers);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  return { rate: done / secs, cpuUs: (cpu.user + cpu.system) / done };
}

(async () => {
  const client = new gremlin.driver.Client(url, {
    traversalSource: "g",
    mimeType: "application/vnd.graphbinary-v1.0",
  });
  await client.open();
  await one(client);   // warm up
  let best = { rate: 0, cpuUs: Infinity };
  for (let i = 0; i < 3; i++) {
    const r = await run(client);
    if (r.rate > best.rate) best = { rate: r.rate, cpuUs: Math.min(best.cpuUs, r.cpuUs) };
    else best.cpuUs = Math.min(best.cpuUs, r.cpuUs);
  }
  await client.close();
  let version = "?";
  try {
    version = require("gremlin/package.json").version;
  } catch {
    /* not exported */
  }
  console.log(`JS rate=${best.rate.toFixed(0)} cpu_us=${best.cpuUs.toFixed(2)} version=${version}`);
  process.exit(0);
})().catch((e) => {
  console.error(`gremlin.js: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});

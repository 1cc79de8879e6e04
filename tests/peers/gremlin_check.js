#!/usr/bin/env node
// gremlin_check.js — the official gremlin npm driver (3.8.2 with GraphBinary
// and GraphSON 3.0, 3.6.4 with GraphSON 2.0 and 3.0) against libgraphjob's
// Gremlin Server reference server (tests/servers/gremlin).  Every script of
// the server's repertoire runs through the driver's Client, in and out of a
// session, with and without SASL; if the driver cannot do something here,
// the reference server is wrong.
//
// usage: node gremlin_check.js WS_URL AUTH_WS_URL [--user U] [--password P]
//                              [--max-content-length BYTES] [--tls-url WSS_URL]
// WS_URL: a server started with --max-content-length BYTES (default 1048576);
// AUTH_WS_URL: a server started with --user U --password P (stephen /
// password); WSS_URL: a server started with --tls-cert/--tls-key (a
// self-signed certificate: not verified).  Prints TAP; exits 1 on any failure.
"use strict";

const gremlin38 = require("gremlin");
const gremlin36 = require("gremlin-3.6");

const argv = process.argv.slice(2);
const url = argv[0];
const authUrl = argv[1];
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const user = opt("--user", "stephen");
const password = opt("--password", "password");
const maxContentLength = Number(opt("--max-content-length", String(1024 * 1024)));
const tlsUrl = opt("--tls-url", null);
if (!url || !authUrl) {
  console.error("usage: node gremlin_check.js WS_URL AUTH_WS_URL [--user U] [--password P] [--max-content-length N]");
  process.exit(2);
}

// Nothing here may hang: the whole run is bounded.
const overall = setTimeout(() => {
  console.log("Bail out! timed out after 240 s");
  process.exit(1);
}, 240_000);
overall.unref();

let passed = 0;
let failed = 0;
let n = 0;
const failures = [];

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
// Deep equality that knows Map, Set, Date, Buffer and BigInt.
function same(a, b) {
  if (a === b) return true;
  if (typeof a === "bigint" || typeof b === "bigint") return BigInt(a) === BigInt(b);
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !same(v, b.get(k))) return false;
    return true;
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set && b instanceof Set) || a.size !== b.size) return false;
    return [...a].every((x) => [...b].some((y) => same(x, y)));
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => same(a[k], b[k]));
}
const show = (v) => {
  try {
    return JSON.stringify(v, (k, x) =>
      typeof x === "bigint" ? `${x}n` : x instanceof Map ? { Map: [...x] } : x instanceof Set ? { Set: [...x] } : x,
    );
  } catch {
    return String(v);
  }
};
function eq(actual, expected, msg) {
  if (!same(actual, expected)) throw new Error(`${msg}: expected ${show(expected)}, got ${show(actual)}`);
}
async function rejects(promise, code, messageRe, msg) {
  try {
    await promise;
  } catch (err) {
    eq(err.statusCode, code, `${msg} (status code; message "${err.message}")`);
    if (messageRe) assert(messageRe.test(err.statusMessage), `${msg}: status message "${err.statusMessage}" ~ ${messageRe}`);
    return err;
  }
  throw new Error(`${msg}: expected a rejection with ${code}, it resolved`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const attr = (attrs, key) => (attrs instanceof Map ? attrs.get(key) : attrs && attrs[key]);

async function check(name, fn) {
  n++;
  try {
    await fn();
    passed++;
    console.log(`ok ${n} - ${name}`);
  } catch (err) {
    failed++;
    failures.push(name);
    console.log(`not ok ${n} - ${name}`);
    console.log(`  # ${String(err && err.stack ? err.stack : err).split("\n").slice(0, 4).join("\n  # ")}`);
  }
}

// An element's property value, whatever shape the driver version gives
// (3.8: an array of (Vertex)Property, 3.6: an object of arrays / Property).
function prop(el, key) {
  const ps = el.properties;
  if (Array.isArray(ps)) {
    const p = ps.find((x) => (x.key || x.label) === key);
    return p && p.value;
  }
  const p = ps && ps[key];
  if (Array.isArray(p)) return p[0] && p[0].value;
  return p && typeof p === "object" && "value" in p ? p.value : p;
}
const uuid = () => require("crypto").randomUUID();

const CONFIGS = [
  { name: "3.8.2 GraphBinary", lib: gremlin38, mimeType: "application/vnd.graphbinary-v1.0", typed: "gb" },
  { name: "3.8.2 GraphSON 3.0", lib: gremlin38, mimeType: "application/vnd.gremlin-v3.0+json", typed: "v3" },
  { name: "3.6.4 GraphSON 2.0", lib: gremlin36, mimeType: "application/vnd.gremlin-v2.0+json", typed: "v2" },
  { name: "3.6.4 GraphSON 3.0", lib: gremlin36, mimeType: "application/vnd.gremlin-v3.0+json", typed: "v3" },
];

// Values g.inject(x) must give back as they are, per serializer.
function injectValues(cfg) {
  const common = [0, 1, -7, 2147483647, 2.5, -0.125, "", "héllo ✓", true, false, [1, "two", 3.5], [[]]];
  if (cfg.typed === "v2") return [...common, { a: 1, b: [true, "x"] }];
  const more = [new Map([["k", 1], ["l", [2, 3]]]), new Map([[1, "int key"]])];
  if (cfg.typed === "gb") more.push(BigInt("9007199254740993"), new Date(1700000000123), Buffer.from([0, 1, 254, 255]));
  if (cfg.typed === "v3") more.push(new Date(1700000000123));
  // 3.6.4's GraphSON writer turns a JS Set into {} (a driver limitation)
  if (cfg.typed === "v3" && cfg.lib === gremlin38) more.push(new Set(["a", "b"]));
  return [...common, ...more];
}

async function suite(cfg) {
  const { driver } = cfg.lib;
  const open = (opts = {}) => new driver.Client(url, { mimeType: cfg.mimeType, ...opts });
  const c = open();
  const tag = `[${cfg.name}]`;

  await check(`${tag} g.V().count() is 6; the final response carries the host attribute`, async () => {
    const rs = await c.submit("g.V().count()");
    eq(rs.toArray().map(Number), [6], "count");
    assert(/^\/127\.0\.0\.1:\d+$/.test(attr(rs.attributes, "host")), `host attribute ${show(rs.attributes)}`);
  });

  await check(`${tag} g.V(): the six vertices of the modern graph with their properties`, async () => {
    const vs = (await c.submit("g.V()")).toArray();
    eq(vs.map((v) => Number(v.id)), [1, 2, 3, 4, 5, 6], "ids");
    eq(vs.map((v) => v.label), ["person", "person", "software", "person", "software", "person"], "labels");
    eq(vs.map((v) => prop(v, "name")), ["marko", "vadas", "lop", "josh", "ripple", "peter"], "names");
    eq(vs.map((v) => prop(v, "age") ?? prop(v, "lang")), [29, 27, "java", 32, "java", 35], "age / lang");
  });

  await check(`${tag} g.V(id).values('name') with a literal and with a binding`, async () => {
    eq((await c.submit("g.V(1).values('name')")).toArray(), ["marko"], "literal id");
    eq((await c.submit("g.V(x).values('name')", { x: 4 })).toArray(), ["josh"], "bound id");
    eq((await c.submit("g.V(x).values('name', 'age')", { x: 2 })).toArray(), ["vadas", 27], "two keys");
    eq((await c.submit("g.V(99).values('name')")).toArray(), [], "unknown id: 204, no results");
  });

  await check(`${tag} g.V().hasLabel(x) with a literal and with a binding`, async () => {
    eq((await c.submit("g.V().hasLabel('software')")).toArray().map((v) => Number(v.id)), [3, 5], "literal");
    eq((await c.submit("g.V().hasLabel(l)", { l: "person" })).toArray().map((v) => prop(v, "name")),
      ["marko", "vadas", "josh", "peter"], "binding");
    eq((await c.submit("g.V().hasLabel('nothing')")).toArray(), [], "none: 204");
  });

  await check(`${tag} g.E(): six edges with labels, ends and weights`, async () => {
    const es = (await c.submit("g.E()")).toArray();
    eq(es.map((e) => Number(e.id)), [7, 8, 9, 10, 11, 12], "ids");
    eq(es.map((e) => e.label), ["knows", "knows", "created", "created", "created", "created"], "labels");
    eq(es.map((e) => [Number(e.outV.id), Number(e.inV.id)]), [[1, 2], [1, 4], [1, 3], [4, 5], [4, 3], [6, 3]], "ends");
    eq(es.map((e) => prop(e, "weight")), [0.5, 1.0, 0.4, 1.0, 0.4, 0.2], "weights");
  });

  await check(`${tag} g.inject(x) gives every bound value back as it is`, async () => {
    for (const v of injectValues(cfg)) {
      const got = (await c.submit("g.inject(x)", { x: v })).toArray();
      eq(got.length, 1, `one result for ${show(v)}`);
      eq(got[0], v, "round trip");
    }
    eq((await c.submit("g.inject(a, b, c)", { a: 1, b: "x", c: null })).toArray(), [1, "x", null], "three bindings");
    eq((await c.submit("g.inject(1, 'two', 3.5d, true, null, [4, 5])")).toArray(), [1, "two", 3.5, true, null, [4, 5]],
      "literals");
  });

  await check(`${tag} g.V().limit(n) and batchSize: 206 partials collected into one result`, async () => {
    eq((await c.submit("g.V().limit(3)")).toArray().map((v) => Number(v.id)), [1, 2, 3], "limit 3");
    eq((await c.submit("g.V().limit(n)", { n: 5 }, { batchSize: 2 })).toArray().map((v) => Number(v.id)),
      [1, 2, 3, 4, 5], "limit 5 by 2");
  });

  await check(`${tag} g.inject(list).unfold(): 1000 results in ceil(1000/64) frames, or by batchSize`, async () => {
    const list = Array.from({ length: 1000 }, (_, i) => i);
    eq((await c.submit("g.inject(x).unfold()", { x: list })).toArray(), list, "default batch (64)");
    const frames = [];
    await new Promise((resolve, reject) => {
      const s = c.stream("g.inject(x).unfold()", { x: list }, { batchSize: 100 });
      s.on("data", (rs) => frames.push(rs.toArray().length));
      s.on("end", resolve);
      s.on("error", reject);
    });
    eq(frames, Array(10).fill(100), "ten frames of 100 (nine 206 then 200)");
  });

  await check(`${tag} Thread.sleep(ms) answers [null]; evaluationTimeout gives 598`, async () => {
    eq((await c.submit("Thread.sleep(20)")).toArray(), [null], "sleep");
    const err = await rejects(c.submit("Thread.sleep(10000)", null, { evaluationTimeout: 200 }), 598,
      /^Evaluation exceeded the configured 'evaluationTimeout' threshold of 200 ms/, "timeout");
    eq(attr(err.statusAttributes, "exceptions"), ["java.util.concurrent.TimeoutException"], "exceptions");
  });

  await check(`${tag} requests on one connection run concurrently outside a session`, async () => {
    const order = [];
    const slow = c.submit("Thread.sleep(400)").then(() => order.push("slow"));
    const fast = c.submit("g.inject(1)").then(() => order.push("fast"));
    await Promise.all([slow, fast]);
    eq(order, ["fast", "slow"], "completion order");
  });

  await check(`${tag} script errors: 597 with exceptions and stackTrace; outside the repertoire: 597`, async () => {
    const err = await rejects(c.submit("throw new Exception('x')"), 597, /^x$/, "throw");
    eq(attr(err.statusAttributes, "exceptions"), ["java.lang.Exception"], "exceptions");
    assert(/^java\.lang\.Exception: x/.test(attr(err.statusAttributes, "stackTrace")), "stackTrace");
    const err2 = await rejects(c.submit("g.V().out('knows')"), 597, /^startup failed/, "unknown step");
    eq(attr(err2.statusAttributes, "exceptions"), ["org.codehaus.groovy.control.MultipleCompilationErrorsException"],
      "compilation exception");
    await rejects(c.submit("g.inject(nope)"), 597, /^No such property: nope/, "unbound variable");
  });

  await check(`${tag} bad arguments: 499 (aliases, reserved bindings), 498 (unknown op), 499 (processor)`, async () => {
    const h = open({ traversalSource: "h" });
    await rejects(h.submit("g.V().count()"), 499,
      /^Could not alias \[g\] to \[h\] as \[h\] not in the Graph or TraversalSource global bindings$/, "alias");
    await h.close();
    await rejects(c.submit("g.inject(id)", { id: 1 }), 499, /reserved names/, "reserved binding");
    const conn = c._connection;
    await rejects(conn.submit("", "nope", { gremlin: "g.V()" }, null), 498,
      /^Message with op code \[nope\] is not recognized\.$/, "op");
    await rejects(conn.submit("nope", "eval", { gremlin: "g.V()" }, null), 499, /^Invalid OpProcessor requested \[nope\]$/,
      "processor");
    await rejects(conn.submit("", "eval", { language: "gremlin-groovy" }, null), 499,
      /^A message with an \[eval\] op code requires a \[gremlin\] argument\.$/, "gremlin");
    await rejects(conn.submit("session", "eval", { gremlin: "g.V()" }, null), 499,
      /^A message with an \[eval\] op code requires a \[session\] argument$/, "session");
    eq((await c.submit("g.inject(2)")).toArray(), [2], "the connection still works");
  });

  await check(`${tag} traversals (bytecode) through DriverRemoteConnection`, async () => {
    const rc = new driver.DriverRemoteConnection(url, { mimeType: cfg.mimeType });
    const g = cfg.lib.process.AnonymousTraversalSource.traversal().withRemote(rc);
    try {
      eq(Number(await g.V().count().next().then((r) => r.value)), 6, "count");
      eq(await g.V().hasLabel("software").values("name").toList(), ["lop", "ripple"], "names");
      eq(await g.inject(1, 2, 3).limit(2).toList(), [1, 2], "inject");
    } finally {
      await rc.close();
    }
  });

  await check(`${tag} session: variables persist, requests run in order, close then reopen`, async () => {
    const session = uuid();
    const s = open({ session });
    eq((await s.submit("x = 41")).toArray(), [41], "assignment");
    eq((await s.submit("x")).toArray(), [41], "variable");
    eq((await s.submit("g.inject(y)", { y: "kept" })).toArray(), ["kept"], "binding");
    eq((await s.submit("g.inject(y)")).toArray(), ["kept"], "binding kept by the session");
    const order = [];
    await Promise.all([
      s.submit("Thread.sleep(300)").then(() => order.push("slow")),
      s.submit("g.inject(1)").then(() => order.push("fast")),
    ]);
    eq(order, ["slow", "fast"], "in-session order");
    const other = open({ session });
    await rejects(other.submit("g.inject(1)"), 500, new RegExp(`^Session ${session} is not bound to the connecting client$`),
      "same session from another connection");
    await other._connection.close();
    await s.close(); // op close (204) then the connection
    const again = open({ session });
    await rejects(again.submit("x"), 597, /^No such property: x/, "a new session after close");
    await again.close();
  });

  await check(`${tag} the session dies with its connection`, async () => {
    const session = uuid();
    const s = open({ session });
    eq((await s.submit("v = 'here'")).toArray(), ["here"], "set");
    await s._connection.close(); // no close op
    await sleep(100);
    const again = open({ session });
    await rejects(again.submit("v"), 597, /^No such property: v/, "gone");
    await again.close();
  });

  await check(`${tag} SASL PLAIN: 407 answered on the same request id; concurrent requests wait`, async () => {
    const authenticator = new driver.auth.PlainTextSaslAuthenticator(user, password);
    const a = new driver.Client(authUrl, { mimeType: cfg.mimeType, authenticator });
    const got = await Promise.all([a.submit("g.V().count()"), a.submit("g.inject(1)"), a.submit("g.inject(2)")]);
    eq(got.map((rs) => rs.toArray().map(Number)), [[6], [1], [2]], "three requests during the negotiation");
    eq((await a.submit("g.V(1).values('name')")).toArray(), ["marko"], "the connection stays authenticated");
    await a.close();
    const s = new driver.Client(authUrl, { mimeType: cfg.mimeType, authenticator, session: uuid() });
    eq((await s.submit("z = 5")).toArray(), [5], "authenticated session");
    eq((await s.submit("z")).toArray(), [5], "session variable");
    await s.close();
  });

  await check(`${tag} SASL PLAIN: wrong password 401, no authenticator 407`, async () => {
    const bad = new driver.Client(authUrl, {
      mimeType: cfg.mimeType,
      authenticator: new driver.auth.PlainTextSaslAuthenticator(user, password + "x"),
    });
    await rejects(bad.submit("g.V().count()"), 401, /^Username and\/or password are incorrect$/, "wrong password");
    await bad._connection.close();
    const none = new driver.Client(authUrl, { mimeType: cfg.mimeType });
    await rejects(none.submit("g.V().count()"), 407, null, "no authenticator");
    await none._connection.close();
  });

  if (tlsUrl)
    await check(`${tag} wss:// (TLS)`, async () => {
      const t = new driver.Client(tlsUrl, { mimeType: cfg.mimeType, rejectUnauthorized: false });
      eq((await t.submit("g.V().count()")).toArray().map(Number), [6], "count over TLS");
      const list = Array.from({ length: 5000 }, (_, i) => `item ${i}`);
      eq((await t.submit("g.inject(x).unfold()", { x: list })).toArray(), list, "5000 results over TLS");
      await t.close();
    });

  await check(`${tag} a request larger than max-content-length closes the connection with 1009`, async () => {
    const big = open();
    let closeCode = null;
    big.addListener("close", (code) => {
      closeCode = code;
    });
    let rejected = false;
    await big.submit("g.inject(x)", { x: "a".repeat(maxContentLength + 1) }).catch(() => {
      rejected = true;
    });
    assert(rejected, "the request failed");
    for (let i = 0; i < 100 && closeCode === null; i++) await sleep(20);
    eq(closeCode, 1009, "close code");
  });

  await c.close();
}

async function main() {
  for (const cfg of CONFIGS) await suite(cfg);
  console.log(`1..${n}`);
  console.log(`# passed ${passed}, failed ${failed}${failed ? ": " + failures.join("; ") : ""}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.log(`Bail out! ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);

#!/usr/bin/env node
// arango_check.js — the official arangojs driver (10.4.0) against libgraphjob's
// ArangoDB reference server (tests/servers/arango).  If arangojs cannot do
// something here, the reference server is wrong.
//
// usage: node arango_check.js http://127.0.0.1:PORT [--user root] [--password ""]
//                             [--max-body BYTES]
// The server should run with --coordinators 2 (cluster checks use the second
// coordinator) and the same --max-body.  Prints TAP; exits 1 on any failure.
"use strict";

const { Database, aql } = require("arangojs");
const { ArangoError } = require("arangojs/errors");

const argv = process.argv.slice(2);
const url = argv[0];
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const user = opt("--user", "root");
const password = opt("--password", "");
const maxBody = Number(opt("--max-body", String(1024 * 1024)));
if (!url) {
  console.error("usage: node arango_check.js URL [--user U] [--password P] [--max-body N]");
  process.exit(2);
}

// Nothing here may hang: the whole run is bounded.
const overall = setTimeout(() => {
  console.log("Bail out! timed out after 180 s");
  process.exit(1);
}, 180_000);
overall.unref();

let passed = 0;
let failed = 0;
let n = 0;
const failures = [];

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
function eq(actual, expected, msg) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${msg}: expected ${e}, got ${a}`);
}
async function rejects(promise, code, errorNum, msg) {
  try {
    await promise;
  } catch (err) {
    if (!(err instanceof ArangoError))
      throw new Error(`${msg}: expected ArangoError ${code}/${errorNum}, got ${err && err.name}: ${err && err.message}`);
    eq([err.code, err.errorNum], [code, errorNum], `${msg} (code, errorNum; message "${err.message}")`);
    return err;
  }
  throw new Error(`${msg}: expected a rejection with ${code}/${errorNum}, it resolved`);
}
async function rejectsStatus(promise, status, msg) {
  try {
    await promise;
  } catch (err) {
    const got = err.code ?? (err.response && err.response.status);
    eq(got, status, `${msg} (HTTP status of ${err.name}: ${err.message})`);
    return err;
  }
  throw new Error(`${msg}: expected HTTP ${status}, it resolved`);
}
async function networkFailure(promise, msg) {
  try {
    await promise;
  } catch (err) {
    assert(!(err instanceof ArangoError), `${msg}: expected a transport error, got ArangoError ${err.errorNum}`);
    return err;
  }
  throw new Error(`${msg}: expected a transport failure, it resolved`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// createJob() also rejects the request's own promise when a job fails; the
// checks look at job.load() instead, so keep that promise from going unhandled.
const quiet = (p) => {
  p.catch(() => undefined);
  return p;
};
async function until(what, fn, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

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

async function main() {
  const auth = { username: user, password };
  const system = new Database({ url, auth });
  const dbName = `gj_check_${Date.now()}`;
  let db;

  // ---- server and authentication ------------------------------------------------
  await check("version", async () => {
    const v = await system.version();
    eq(v.server, "arango", "server");
    assert(/^3\.12\./.test(v.version), `version ${v.version}`);
    eq(v.license, "community", "license");
    const d = await system.version(true);
    assert(d.details && d.details.role, "details.role");
  });

  await check("wrong password: 401 errorNum 11", async () => {
    const bad = new Database({ url, auth: { username: user, password: password + "x" } });
    await rejects(bad.version(), 401, 11, "bad Basic credentials");
    bad.close();
  });

  await check("login: JWT from /_open/auth, bearer requests, renewal, bad token", async () => {
    const jdb = new Database({ url });
    const jwt = await jdb.login(user, password);
    assert(typeof jwt === "string" && jwt.split(".").length === 3, `jwt ${jwt}`);
    const header = JSON.parse(Buffer.from(jwt.split(".")[0], "base64url").toString());
    eq(header.alg, "HS256", "JWT alg");
    const payload = JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
    eq(payload.preferred_username, user, "JWT user");
    assert(payload.exp > Date.now() / 1000, "JWT exp in the future");
    eq((await jdb.version()).server, "arango", "version with bearer");
    const renewed = await jdb.renewAuthToken();
    assert(typeof renewed === "string" && renewed.split(".").length === 3, "renewed token");
    await rejects(jdb.login(user, password + "x"), 401, 401, "wrong credentials at /_open/auth");
    const forged = new Database({ url, auth: { token: jwt.slice(0, -2) + (jwt.endsWith("AA") ? "BB" : "AA") } });
    await rejects(forged.version(), 401, 11, "forged signature");
    forged.close();
    jdb.close();
  });

  // ---- databases ---------------------------------------------------------------------
  await check("databases: create, list, current, duplicate, non-system listing", async () => {
    db = await system.createDatabase(dbName);
    assert((await system.listDatabases()).includes(dbName), "listed");
    assert((await system.listUserDatabases()).includes(dbName), "listed for the user");
    assert(await db.exists(), "exists");
    eq((await db.get()).name, dbName, "current database name");
    await rejects(system.createDatabase(dbName), 409, 1207, "duplicate database");
    await rejects(db.listDatabases(), 403, 1230, "listing from a non-system database");
    await rejects(system.createDatabase("1bad name"), 400, 1229, "invalid name");
  });

  await check("databases: drop, unknown database 1228", async () => {
    const tmp = await system.createDatabase(`${dbName}_tmp`);
    eq(await system.dropDatabase(`${dbName}_tmp`), true, "drop result");
    eq(await tmp.exists(), false, "gone");
    await rejects(tmp.version(), 404, 1228, "request to a dropped database");
    await rejects(system.dropDatabase(`${dbName}_tmp`), 404, 1228, "drop again");
  });

  // ---- collections ---------------------------------------------------------------------
  const users = () => db.collection("users");
  await check("collections: create, duplicate, list, properties, count, truncate, drop", async () => {
    const created = await db.createCollection("users");
    eq(created.name, "users", "collection object");
    const info = await created.get();
    eq([info.name, info.type, info.status], ["users", 2, 3], "collection info");
    assert(typeof info.id === "string" && info.id.length > 0, "id");
    await rejects(db.createCollection("users"), 409, 1207, "duplicate collection");
    await rejects(db.createCollection("bad name!"), 400, 1208, "illegal name");
    const edges = await db.createEdgeCollection("knows");
    eq((await edges.get()).type, 3, "edge collection type");
    eq((await edges.save({ _from: "users/a", _to: "users/b" }))._id.split("/")[0], "knows", "edge saved");
    await rejects(edges.save({ _from: "users/a" }), 400, 1233, "edge without _to");
    eq((await db.collections()).map((c) => c.name).sort(), ["knows", "users"], "listed");
    assert(await users().exists(), "exists");
    eq((await users().properties()).waitForSync, false, "properties");
    eq((await users().properties({ waitForSync: true })).waitForSync, true, "properties updated");
    await users().properties({ waitForSync: false });
    eq((await users().count()).count, 0, "count");
    await users().save({ x: 1 });
    eq((await users().count()).count, 1, "count after save");
    await users().truncate();
    eq((await users().count()).count, 0, "count after truncate");
    const tmp = await db.createCollection("scratch");
    eq((await tmp.properties()).name, "scratch", "scratch was created");
    await db.collection("scratch").drop();
    eq(await db.collection("scratch").exists(), false, "dropped");
    await rejects(db.collection("scratch").get(), 404, 1203, "unknown collection");
  });

  // ---- documents -----------------------------------------------------------------------
  let aliceRev;
  await check("documents: insert one, _key/_id/_rev, returnNew, unique constraint", async () => {
    const meta = await users().save({ _key: "alice", age: 30 }, { returnNew: true });
    eq([meta._id, meta._key], ["users/alice", "alice"], "meta");
    assert(typeof meta._rev === "string" && meta._rev.length > 0, "rev");
    eq(meta.new.age, 30, "returnNew");
    eq(meta.new._rev, meta._rev, "new._rev");
    aliceRev = meta._rev;
    const auto = await users().save({ age: 1 });
    assert(/^[0-9]+$/.test(auto._key), `generated key ${auto._key}`);
    await rejects(users().save({ _key: "alice" }), 409, 1210, "unique constraint");
    await rejects(users().save({ _key: "bad/key" }), 400, 1221, "illegal key");
    await rejects(db.collection("nope").save({}), 404, 1203, "insert into unknown collection");
  });

  await check("documents: insert many, errors inline", async () => {
    const res = await users().saveAll([{ _key: "bob", age: 40 }, { _key: "alice" }, { _key: "carol", age: 50 }]);
    eq(res.length, 3, "results");
    eq(res[0]._key, "bob", "first");
    eq([res[1].error, res[1].errorNum], [true, 1210], "second failed");
    eq(res[2]._id, "users/carol", "third");
    const got = await users().documents(["bob", "carol"]);
    eq(got.map((d) => d.age), [40, 50], "multi-get");
  });

  await check("documents: read, not found, graceful, exists", async () => {
    const doc = await users().document("alice");
    eq([doc._key, doc._id, doc._rev, doc.age], ["alice", "users/alice", aliceRev, 30], "read");
    eq((await users().document("users/alice")).age, 30, "read by _id");
    await rejects(users().document("nobody"), 404, 1202, "missing document");
    eq(await users().document("nobody", { graceful: true }), null, "graceful");
    eq(await users().documentExists("alice"), true, "HEAD exists");
    eq(await users().documentExists("nobody"), false, "HEAD missing");
    await rejects(users().document("alice", { ifMatch: "_nope___" }), 412, 1200, "If-Match on read");
  });

  await check("documents: replace, update, revision checks, returnOld/returnNew", async () => {
    const r = await users().replace("alice", { name: "Alice" }, { returnOld: true, returnNew: true });
    eq(r._oldRev, aliceRev, "_oldRev");
    eq(r.old.age, 30, "old");
    eq(r.new, { _key: "alice", _id: "users/alice", _rev: r._rev, name: "Alice" }, "new");
    assert(r._rev !== aliceRev, "new revision");
    const stale = await rejects(users().replace("alice", { x: 1 }, { ifMatch: aliceRev }), 412, 1200, "stale If-Match");
    assert(stale.message.length > 0, "412 message");
    const u = await users().update("alice", { age: 31, nested: { a: 1 } }, { returnNew: true, ifMatch: r._rev });
    eq([u.new.name, u.new.age, u.new.nested], ["Alice", 31, { a: 1 }], "update merges");
    const u2 = await users().update("alice", { nested: { b: 2 }, name: null }, { keepNull: false, returnNew: true });
    eq([u2.new.nested, "name" in u2.new], [{ a: 1, b: 2 }, false], "mergeObjects + keepNull=false");
    await rejects(users().update("nobody", { x: 1 }), 404, 1202, "update missing");
    await rejects(users().remove("alice", { ifMatch: aliceRev }), 412, 1200, "remove with stale If-Match");
    const gone = await users().remove("alice", { returnOld: true });
    eq([gone._key, gone.old.age], ["alice", 31], "remove returnOld");
    await rejects(users().document("alice"), 404, 1202, "removed");
    await rejects(users().remove("alice"), 404, 1202, "remove twice");
  });

  // ---- AQL cursors -----------------------------------------------------------------------
  await check("cursor: batches via nextBatchId, count, extra.stats", async () => {
    const cursor = await db.query("FOR i IN 1..10 RETURN i", {}, { batchSize: 3, count: true });
    eq(cursor.count, 10, "count");
    eq(cursor.batches.hasMore, true, "hasMore");
    eq(await cursor.all(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "all rows");
    assert(cursor.extra && cursor.extra.stats && "executionTime" in cursor.extra.stats, "extra.stats");
    const down = await db.query("FOR i IN 3..1 RETURN i");
    eq(await down.all(), [3, 2, 1], "descending range");
  });

  await check("cursor: literals and bind parameters", async () => {
    eq(await (await db.query("RETURN 23")).all(), [23], "RETURN literal");
    eq(await (await db.query('RETURN {a: [1, 2.5, "x"], "b": null, c: true}')).all(),
       [{ a: [1, 2.5, "x"], b: null, c: true }], "RETURN object");
    eq(await (await db.query(aql`RETURN ${{ deep: [1, { two: 2 }] }}`)).all(), [{ deep: [1, { two: 2 }] }], "aql`` bind");
    eq(await (await db.query("RETURN @x", { x: "tomato" })).all(), ["tomato"], "RETURN @x");
    eq(await (await db.query("FOR x IN @list RETURN x", { list: [3, 1] })).all(), [3, 1], "FOR over @list");
  });

  await check("cursor: collections, FILTER, @@coll, INSERT, LIMIT + fullCount", async () => {
    await users().truncate();
    await users().saveAll([{ _key: "a", k: 1 }, { _key: "b", k: 2 }, { _key: "c", k: 2 }]);
    const all = await (await db.query("FOR d IN users RETURN d")).all();
    eq(all.map((d) => d._key).sort(), ["a", "b", "c"], "FOR d IN users");
    const byColl = await (await db.query("FOR d IN @@c RETURN d._key", { "@c": "users" })).all();
    eq(byColl.sort(), ["a", "b", "c"], "@@coll");
    const hits = await (await db.query(aql`FOR d IN ${users()} FILTER d.k == ${2} RETURN d._key`)).all();
    eq(hits.sort(), ["b", "c"], "FILTER d.k == @v");
    const ins = await db.query("INSERT @doc INTO users", { doc: { _key: "d", k: 9 } });
    eq(await ins.all(), [], "INSERT returns nothing");
    eq(ins.extra.stats.writesExecuted, 1, "writesExecuted");
    eq((await users().document("d")).k, 9, "inserted");
    const lim = await db.query("FOR i IN 1..100 FILTER i > 10 LIMIT 2, 3 RETURN i", {}, { fullCount: true });
    eq(await lim.all(), [13, 14, 15], "LIMIT offset, count");
    eq(lim.extra.stats.fullCount, 90, "fullCount");
  });

  await check("cursor: stream option", async () => {
    const c = await db.query("FOR i IN 1..5 RETURN i", {}, { stream: true, batchSize: 2, count: true });
    eq(c.count, undefined, "no count for a stream cursor");
    eq(await c.all(), [1, 2, 3, 4, 5], "rows");
    // arangojs keeps only the first batch's extra: look at the raw batches
    const first = (await db.route("/_api/cursor").post({ query: "FOR i IN 1..3 RETURN i", batchSize: 2,
                                                          options: { stream: true } })).parsedBody;
    eq(["extra" in first, first.hasMore], [false, true], "no extra before the last batch");
    const last = (await db.route(`/_api/cursor/${first.id}/${first.nextBatchId}`).post()).parsedBody;
    eq([last.result, last.hasMore, "stats" in last.extra], [[3], false, true], "extra with the last batch");
  });

  await check("cursor: errors 1501, 1203, 1551, 1552, 1502", async () => {
    await rejects(db.query("FOR x IN RETURN x"), 400, 1501, "syntax error");
    await rejects(db.query("FOR i IN no RETURN i"), 404, 1203, "unknown collection");
    await rejects(db.query("RETURN @x"), 400, 1551, "missing bind parameter");
    await rejects(db.query("RETURN 1", { y: 1 }), 400, 1552, "undeclared bind parameter");
    await rejects(db.query(""), 400, 1502, "empty query");
  });

  await check("cursor: kill (DELETE) and ttl expiry give 1600", async () => {
    const c = await db.query("FOR i IN 1..10 RETURN i", {}, { batchSize: 2 });
    const id = c.batches.id;
    await c.kill();
    await rejects(db.route(`/_api/cursor/${id}`).post(), 404, 1600, "next batch after DELETE");
    const t = await db.query("FOR i IN 1..10 RETURN i", {}, { batchSize: 2, ttl: 1 });
    await sleep(1600);
    await rejects(t.all(), 404, 1600, "next batch after ttl expiry");
  });

  await check("cursor: allowRetry refetches the last batch", async () => {
    const r = await db.route("/_api/cursor").post({ query: "FOR i IN 1..5 RETURN i", batchSize: 2,
                                                      options: { allowRetry: true } });
    const first = r.parsedBody;
    eq([first.result, first.nextBatchId], [[1, 2], "2"], "first batch");
    const second = (await db.route(`/_api/cursor/${first.id}/2`).post()).parsedBody;
    const again = (await db.route(`/_api/cursor/${first.id}/2`).post()).parsedBody;
    eq([second.result, again.result], [[3, 4], [3, 4]], "batch 2 twice");
    const third = (await db.route(`/_api/cursor/${first.id}/3`).post()).parsedBody;
    eq([third.result, third.hasMore], [[5], false], "last batch");
    eq((await db.route(`/_api/cursor/${first.id}`).delete()).status, 202, "DELETE 202");
  });

  // ---- running queries ------------------------------------------------------------------
  await check("queries: list running, kill gives 410 / 1500, unknown id 1591", async () => {
    const q = "RETURN SLEEP(10)";
    const p = db.query(q);
    p.catch(() => undefined); // rejected while we wait; checked below
    const running = await until("the query to be listed",
      async () => (await db.listRunningQueries()).find((e) => e.query === q));
    assert("bindVars" in running && running.state === "executing", "query entry");
    const started = Date.now();
    await db.killQuery(running.id);
    await rejects(p, 410, 1500, "killed query");
    assert(Date.now() - started < 5000, "kill is prompt");
    await rejects(db.killQuery("12345"), 404, 1591, "unknown query id");
  });

  await check("queries: maxRuntime kills a slow query", async () => {
    await rejects(db.query("RETURN SLEEP(5)", {}, { maxRuntime: 0.2 }), 410, 1500, "maxRuntime exceeded");
  });

  // ---- stream transactions ---------------------------------------------------------------
  await check("transactions: isolation, commit, abort, 1653, 1655", async () => {
    await users().truncate();
    const trx = await db.beginTransaction({ write: [users()] });
    await trx.step(() => users().save({ _key: "t1" }));
    await rejects(users().document("t1"), 404, 1202, "not visible outside before commit");
    eq((await trx.step(() => users().document("t1")))._key, "t1", "visible inside");
    eq((await trx.step(() => users().count())).count, 1, "count inside");
    eq((await trx.get()).status, "running", "status running");
    eq((await trx.commit()).status, "committed", "commit");
    eq((await users().document("t1"))._key, "t1", "visible after commit");
    eq((await trx.commit()).status, "committed", "commit is idempotent");
    await rejects(trx.abort(), 400, 1653, "abort after commit");

    const t2 = await db.beginTransaction({ write: "users" });
    await t2.step(() => users().save({ _key: "t2" }));
    await t2.step(() => users().remove("t1"));
    eq((await t2.abort()).status, "aborted", "abort");
    await rejects(users().document("t2"), 404, 1202, "aborted insert is gone");
    eq((await users().document("t1"))._key, "t1", "aborted remove did not happen");
    await rejects(db.transaction("99999").get(), 404, 1655, "unknown transaction");
    await rejects(db.beginTransaction({ write: ["nope"] }), 404, 1203, "unknown collection in begin");
    const t3 = await db.beginTransaction({ read: "users" });
    await rejects(t3.step(() => users().save({})), 400, 1652, "write to a collection declared read-only");
    await t3.abort();
  });

  await check("transactions: AQL inside a transaction", async () => {
    const trx = await db.beginTransaction({ write: ["users"] });
    await trx.step(() => db.query("INSERT @d INTO users", { d: { _key: "aq" } }));
    const inside = await trx.step(() => db.query("FOR d IN users FILTER d._key == 'aq' RETURN d._key"));
    eq(await inside.all(), ["aq"], "AQL sees the transaction's insert");
    const outside = await db.query("FOR d IN users FILTER d._key == 'aq' RETURN d._key");
    eq(await outside.all(), [], "others do not");
    await trx.commit();
    eq(await (await db.query("FOR d IN users FILTER d._key == 'aq' RETURN d._key")).all(), ["aq"], "after commit");
  });

  await check("transactions: begin options, failed steps leave it running, allowImplicit, paging", async () => {
    await users().truncate();
    const side = db.collection("trx_side");
    if (!(await side.exists())) await side.create();
    const trx = await db.beginTransaction(
      { write: ["users"] },
      { allowImplicit: false, lockTimeout: 5, maxTransactionSize: 1 << 20, waitForSync: false },
    );
    await trx.step(() => users().save({ _key: "f1" }));
    await rejects(trx.step(() => users().save({ _key: "f1" })), 409, 1210, "unique constraint inside");
    await rejects(trx.step(() => db.query("RETURN nonsense(")), 400, 1501, "syntax error inside");
    await rejects(trx.step(() => db.query("FOR d IN trx_side RETURN d")), 400, 1652,
                  "undeclared read with allowImplicit: false");
    await rejects(trx.step(() => side.count()), 400, 1652, "undeclared count with allowImplicit: false");
    eq((await trx.get()).status, "running", "still running after the failed steps");
    // (db.listTransactions() asks the _system database in arangojs 10.4.)
    const listed = (await db.route("/_api/transaction").get()).parsedBody.transactions;
    assert(listed.some((t) => t.id === trx.id && t.state === "running"), `listed: ${JSON.stringify(listed)}`);
    for (let i = 0; i < 5; i++) await trx.step(() => users().save({ _key: `p${i}` }));
    const cur = await trx.step(() => db.query("FOR d IN users RETURN d._key", {}, { batchSize: 2, count: true }));
    eq(cur.count, 6, "count inside");
    eq((await cur.all()).sort(), ["f1", "p0", "p1", "p2", "p3", "p4"], "every batch");
    eq((await users().count()).count, 0, "nothing outside yet");
    eq((await trx.commit()).status, "committed", "commit after failed steps");
    eq((await users().count()).count, 6, "the successful steps committed");
    const implicit = await db.beginTransaction({ write: ["users"] });
    eq((await implicit.step(() => side.count())).count, 0, "implicit read allowed by default");
    await implicit.abort();
    await rejects(db.beginTransaction({ write: "users" }, { lockTimeout: "soon" }), 400, 10, "lockTimeout not a number");
    await rejects(db.beginTransaction({ write: "users" }, { allowImplicit: 1 }), 400, 10, "allowImplicit not a bool");
  });

  // ---- async jobs -------------------------------------------------------------------
  await check("jobs: createJob + load returns the cursor", async () => {
    const job = await db.createJob(() => db.query(aql`RETURN 23`));
    assert(/^[1-9][0-9]*$/.test(job.id), `job id ${job.id}`);
    eq(job.isLoaded, false, "not loaded yet");
    const cursor = await until("the job result", async () => {
      const r = await job.load();
      return job.isLoaded ? r : null;
    });
    eq(await cursor.next(), 23, "result");
    assert((await job.load()) === cursor, "the loaded result is kept");
    await rejects(db.job(job.id).load(), 404, 404, "result is fetched once");
  });

  await check("jobs: a failed job re-raises the server error (404 / 1203, 400 / 1501)", async () => {
    const job = await db.createJob(() => quiet(db.query("FOR i IN no RETURN i")));
    await until("completion", () => job.getCompleted());
    await rejects(job.load(), 404, 1203, "stored error");
    const bad = await db.createJob(() => quiet(db.query("FOR x IN RETURN x")));
    await until("completion", () => bad.getCompleted());
    await rejects(bad.load(), 400, 1501, "stored syntax error");
  });

  await check("jobs: db.job(id) re-attaches", async () => {
    const created = await db.createJob(() => db.version());
    const job = db.job(created.id);
    await until("completion", () => job.getCompleted());
    const v = await job.load();
    eq(v.server, "arango", "result of a re-attached job");
  });

  await check("jobs: getCompleted false while pending, listPendingJobs, cancel gives 410 / 21", async () => {
    const job = await db.createJob(() => quiet(db.query(aql`RETURN SLEEP(10)`)));
    eq(await job.getCompleted(), false, "pending");
    const pending = await until("pending list", async () => {
      const l = await db.listPendingJobs();
      return l.includes(job.id) ? l : null;
    });
    assert(pending.includes(job.id), "listed pending");
    await job.cancel();
    await until("completion after cancel", () => job.getCompleted(), 5000);
    await rejects(job.load(), 410, 21, "canceled job");
  });

  await check("jobs: done list until fetched, deleteResult, expired, all", async () => {
    const job = await db.createJob(() => db.version());
    await until("completion", () => job.getCompleted());
    assert((await db.listCompletedJobs()).includes(job.id), "listed done");
    await job.load();
    assert(!(await db.listCompletedJobs()).includes(job.id), "gone from done after fetch");

    const del = await db.createJob(() => db.version());
    await until("completion", () => del.getCompleted());
    await del.deleteResult();
    await rejects(db.job(del.id).getCompleted(), 404, 404, "deleted job");
    await rejects(db.job(del.id).cancel(), 404, 404, "cancel of a deleted job");

    const old = await db.createJob(() => db.version());
    await until("completion", () => old.getCompleted());
    await db.deleteExpiredJobResults(Date.now() - 3600 * 1000);
    assert((await db.listCompletedJobs()).includes(old.id), "kept (not expired)");
    await db.deleteExpiredJobResults(Date.now() + 60 * 1000);
    assert(!(await db.listCompletedJobs()).includes(old.id), "expired and deleted");

    const a = await db.createJob(() => db.version());
    const b = await db.createJob(() => db.version());
    await until("completion", async () => (await a.getCompleted()) && (await b.getCompleted()));
    await db.deleteAllJobResults();
    const done = await db.listCompletedJobs();
    assert(!done.includes(a.id) && !done.includes(b.id), "all deleted");
  });

  await check("jobs: x-arango-async: true is fire-and-forget (202, no id)", async () => {
    const res = await db.route("/_api/document/users").post({ _key: "fire" }, undefined, { "x-arango-async": "true" });
    eq(res.status, 202, "202 Accepted");
    eq(res.headers.get("x-arango-async-id"), null, "no job id");
    await until("the document to appear", () => users().documentExists("fire"));
    const stored = await db.route("/_api/version").get(undefined, { "x-arango-async": "store" });
    eq(stored.status, 202, "store: 202");
    assert(/^[1-9][0-9]*$/.test(stored.headers.get("x-arango-async-id")), "store: job id header");
  });

  await check("jobs: PUT /_api/job/{id} replays status, headers and body", async () => {
    const sub = await db.route("/_api/document/users").post({ _key: "replayed" }, undefined,
                                                            { "x-arango-async": "store" });
    const id = sub.headers.get("x-arango-async-id");
    await until("completion", () => db.job(id).getCompleted());
    const res = await db.route(`/_api/job/${id}`).put();
    eq(res.status, 202, "original status");
    eq(res.headers.get("x-arango-async-id"), id, "x-arango-async-id");
    assert(res.headers.get("etag"), "original headers");
    eq(res.parsedBody._id, "users/replayed", "original body");
  });

  // ---- cluster: two coordinators in one process -------------------------------------
  await check("cluster: endpoints, shared data, cursors and jobs pinned to their coordinator", async () => {
    const res = await system.route("/_api/cluster/endpoints").get();
    const eps = res.parsedBody.endpoints.map((e) => e.endpoint);
    assert(eps.length >= 2, `two coordinators (got ${eps})`);
    const other = eps.map((e) => e.replace(/^tcp:/, "http:")).find((e) => !url.startsWith(e) && e !== url);
    assert(other, "a second coordinator");
    const db2 = new Database({ url: other, databaseName: dbName, auth });
    await users().save({ _key: "shared" });
    eq((await db2.collection("users").document("shared"))._key, "shared", "data shared by coordinators");
    const c = await db.query("FOR i IN 1..4 RETURN i", {}, { batchSize: 1 });
    await rejects(db2.route(`/_api/cursor/${c.batches.id}`).post(), 404, 1600, "cursor unknown elsewhere");
    eq(await c.all(), [1, 2, 3, 4], "cursor works on its coordinator");
    const job = await db.createJob(() => db.version());
    await rejects(db2.job(job.id).getCompleted(), 404, 404, "job unknown elsewhere");
    await until("completion", () => job.getCompleted());
    const multi = new Database({ url: [url, other], auth, databaseName: dbName, loadBalancingStrategy: "ROUND_ROBIN" });
    await multi.acquireHostList();
    for (let i = 0; i < 4; i++) eq((await multi.version()).server, "arango", "round robin");
    multi.close();
    db2.close();
  });

  // ---- faults and limits ------------------------------------------------------------
  const setFault = (spec) => system.route("/_refserver/fault").put(spec);
  await check("faults: 503 becomes ArangoError 503, close-mid-response and stall fail the request", async () => {
    await setFault(["503:path=/_api/version,count=1"]);
    await rejects(system.version(), 503, 503, "injected 503");
    eq((await system.version()).server, "arango", "next request fine");
    await setFault(["close-mid-response:path=/_api/cursor,count=1"]);
    await networkFailure(db.query("FOR i IN 1..100 RETURN i"), "truncated response");
    eq(await (await db.query("RETURN 1")).all(), [1], "then fine again");
    await setFault(["stall:path=/_api/version,count=1,secs=3"]);
    await networkFailure(system.request({ pathname: "/_api/version", timeout: 300 }), "stalled response");
    await setFault([]);
  });

  await check("limits: 413 body too large, 414 URL too long, unknown path 404", async () => {
    const big = "x".repeat(maxBody + 1);
    await rejectsStatus(users().save({ big }), 413, "body over the limit");
    await rejectsStatus(db.route(`/_api/version/${"y".repeat(17000)}`).get(), 414, "URL over 16 KiB");
    await rejects(db.route("/_api/nothing-here").get(), 404, 404, "unknown path");
  });

  await check("cleanup: drop the test database", async () => {
    eq(await system.dropDatabase(dbName), true, "dropped");
  });

  system.close();
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

#!/usr/bin/env node
// neo4j_check.js — certify bolt-refserver with the official neo4j-driver (6.3).
//
// Starts the reference server itself (port 0, "PORT n" on stdout) in several
// configurations and runs the repertoire of issue 3 through the driver:
// Bolt 6.0 (vectors) and 5.x over the manifest handshake, 5.x over the legacy handshake, 5.0
// (credentials in HELLO), 4.4 (+ utc patch), neo4j:// routing over a
// three-member cluster on loopback (5.x and 4.4), TLS (bolt+ssc, bolt+s with
// a CA file, neo4j+ssc), wrong password, notification filter keys by version,
// TELEMETRY api numbers, and injected faults.  Every server
// must stop cleanly on SIGTERM (exit 0).
//
// usage: node neo4j_check.js [SERVER_BINARY]
//   default binary: $BOLT_REFSERVER, else $GJ_BUILDDIR/tests/servers/bolt/bolt-refserver
// exit: 0 all checks passed, 1 a check failed, 77 neo4j-driver missing, 99 setup error.
'use strict';

const { spawn, execFileSync } = require('child_process');
const assert = require('assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');

let neo4j;
try {
    neo4j = require('neo4j-driver');
} catch (e) {
    console.log('SKIP: neo4j-driver is not installed; run `npm ci` in ' + __dirname);
    process.exit(77);
}

const server = process.argv[2] || process.env.BOLT_REFSERVER ||
    path.join(process.env.GJ_BUILDDIR || '.', 'tests/servers/bolt/bolt-refserver');
if (!fs.existsSync(server)) {
    console.error('neo4j_check.js: server binary not found: ' + server);
    process.exit(99);
}

const AUTH = neo4j.auth.basic('neo4j', 'password');
const OP_TIMEOUT_MS = 30000;
let failures = 0;
let passed = 0;

function withTimeout(promise, ms, what) {
    let timer;
    return Promise.race([
        promise,
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
    ]).finally(() => clearTimeout(timer));
}

async function check(name, fn) {
    try {
        await withTimeout(Promise.resolve().then(fn), OP_TIMEOUT_MS, name);
        passed++;
        console.log('ok - ' + name);
    } catch (e) {
        failures++;
        console.log('not ok - ' + name + '\n  ' + String(e && e.stack || e).split('\n').join('\n  '));
    }
}

// ---- the server ---------------------------------------------------------------

async function startServer(args, members = 1) {
    const control = args.includes('--control');
    const child = spawn(server, ['--port', '0', ...args], { stdio: [control ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stderr.on('data', d => { err += d; });
    const ports = await withTimeout(new Promise((resolve, reject) => {
        child.stdout.on('data', d => {
            out += d;
            const found = [...out.matchAll(/^PORT (\d+)$/mg)].map(m => Number(m[1]));
            if (found.length >= members)
                resolve(found);
        });
        child.on('exit', code => reject(new Error(`server exited (${code}) before listening: ${err}`)));
    }), 10000, 'server start');
    let exited = null;
    const exitPromise = new Promise(resolve => child.on('exit', (code, sig) => { exited = { code, sig }; resolve(exited); }));
    let answered = 0;
    return {
        ports,
        // --control: send a command, wait for its "OK" / "ERR ..." line.
        async command(cmd) {
            const before = answered;
            child.stdin.write(cmd + '\n');
            const line = await withTimeout(new Promise(resolve => {
                const poll = () => {
                    const answers = [...out.matchAll(/^(OK|ERR.*)$/mg)].map(m => m[1]);
                    if (answers.length > before) {
                        answered = answers.length;
                        resolve(answers[before]);
                    } else {
                        setTimeout(poll, 10);
                    }
                };
                poll();
            }), 5000, cmd);
            assert.equal(line, 'OK', `${cmd}: ${line}`);
        },
        url: (scheme, i = 0) => `${scheme}://127.0.0.1:${ports[i]}`,
        addr: i => `127.0.0.1:${ports[i]}`,
        stderr: () => err,
        async stop() {
            if (!exited)
                child.kill('SIGTERM');
            const r = await withTimeout(exitPromise, 10000, 'server stop').catch(e => {
                child.kill('SIGKILL');
                throw e;
            });
            assert.equal(r.code, 0, `server exit: ${JSON.stringify(r)}; stderr: ${err.slice(-2000)}`);
        },
    };
}

async function withServer(args, fn, members = 1) {
    const srv = await startServer(args, members);
    try {
        await fn(srv);
    } finally {
        await check(`server [${args.join(' ')}] stops cleanly`, () => srv.stop());
    }
}

function driverFor(url, extra = {}) {
    return neo4j.driver(url, AUTH, { connectionTimeout: 10000, maxConnectionPoolSize: 10, ...extra });
}

async function withDriver(url, extra, fn) {
    const d = driverFor(url, extra);
    try {
        await fn(d);
    } finally {
        await d.close();
    }
}

// ---- expectations -----------------------------------------------------------------

async function expectError(promise, code, gql) {
    let err = null;
    try {
        await promise;
    } catch (e) {
        err = e;
    }
    assert.ok(err, `expected an error ${code}`);
    if (code)
        assert.equal(err.code, code, `error: ${err.code} ${err.message}`);
    if (gql)
        assert.equal(err.gqlStatus, gql, `gqlStatus of ${err.code}: ${err.gqlStatus}`);
    return err;
}

function sameTemporal(got, want) {
    assert.equal(got.constructor.name, want.constructor.name);
    if (want.timeZoneId && want.timeZoneOffsetSeconds === undefined) {
        // Sent with a zone id only: the driver resolves the offset on the way
        // back from the UTC seconds; the wall-clock fields must be the same.
        for (const f of ['year', 'month', 'day', 'hour', 'minute', 'second', 'nanosecond', 'timeZoneId'])
            assert.equal(String(got[f]), String(want[f]), f);
        assert.equal(Number(got.timeZoneOffsetSeconds), 7200);   // Europe/Paris in June
        return;
    }
    assert.equal(got.toString(), want.toString());
}

// ---- the repertoire -------------------------------------------------------------------

async function repertoire(d, label, { version, gql, url, agent = 'Neo4j/5.26.0' }) {
    await check(`${label}: negotiates Bolt ${version}`, async () => {
        const info = await d.getServerInfo();
        assert.equal(`${info.protocolVersion.major}.${info.protocolVersion.minor}`, version);
        assert.equal(info.agent, agent);
    });

    await check(`${label}: RETURN literals`, async () => {
        const r = await d.executeQuery("RETURN 1 AS i, -1.5 AS f, 'x\\'y' AS s, true AS b, null AS n, [1, 'a', [2]] AS l, {k: 1, m: {z: []}} AS m, 1");
        const rec = r.records[0];
        assert.deepEqual(rec.keys, ['i', 'f', 's', 'b', 'n', 'l', 'm', '1']);
        assert.equal(rec.get('i').toNumber(), 1);
        assert.equal(rec.get('f'), -1.5);
        assert.equal(rec.get('s'), "x'y");
        assert.equal(rec.get('b'), true);
        assert.equal(rec.get('n'), null);
        assert.equal(rec.get('l')[1], 'a');
        assert.equal(rec.get('l')[2][0].toNumber(), 2);
        assert.deepEqual(rec.get('m').m, { z: [] });
        assert.equal(rec.get('1').toNumber(), 1);
        assert.equal(r.summary.queryType, 'r');
    });

    await check(`${label}: RETURN $params of every type round-trips`, async () => {
        const values = {
            int: neo4j.int('9007199254740993'),
            neg: neo4j.int(-129),
            float: 3.25,
            str: 'Größenmaßstäbe ✓ 😀',
            bool: false,
            nul: null,
            list: [neo4j.int(1), 'two', [3.5], { four: neo4j.int(4) }],
            map: { a: neo4j.int(1), b: ['x'], c: { d: null } },
            bytes: new Int8Array([1, 2, -1, 0]),
            date: new neo4j.types.Date(2024, 2, 29),
            time: new neo4j.types.Time(12, 34, 56, 789000000, 3600),
            localTime: new neo4j.types.LocalTime(23, 59, 59, 999999999),
            dateTimeOffset: new neo4j.types.DateTime(2024, 6, 11, 10, 15, 30, 123456789, -18000),
            dateTimeZone: new neo4j.types.DateTime(2024, 6, 11, 10, 15, 30, 0, undefined, 'Europe/Paris'),
            localDateTime: new neo4j.types.LocalDateTime(1969, 12, 31, 23, 59, 59, 1),
            duration: new neo4j.types.Duration(14, 31, 3600, 42),
            point2d: new neo4j.types.Point(7203, 1.5, -2.25),
            point3d: new neo4j.types.Point(9157, 1, 2, 3),
        };
        const keys = Object.keys(values);
        const q = 'RETURN ' + keys.map(k => `$${k} AS ${k}`).join(', ');
        const r = await d.executeQuery(q, values);
        const rec = r.records[0];
        for (const k of keys) {
            const got = rec.get(k), want = values[k];
            if (want && typeof want === 'object' && 'toString' in want && /^(Date|Time|LocalTime|DateTime|LocalDateTime|Duration)$/.test(want.constructor.name))
                sameTemporal(got, want);
            else if (want instanceof neo4j.types.Point)
                assert.deepEqual([got.srid.toNumber(), got.x, got.y, got.z], [want.srid, want.x, want.y, want.z], k);
            else if (want instanceof Int8Array)
                assert.deepEqual(Array.from(got), Array.from(want), k);
            else
                assert.deepEqual(JSON.stringify(got), JSON.stringify(want), k);
        }
    });

    await check(`${label}: nodes, relationships, paths`, async () => {
        const r = await d.executeQuery("MATCH p = (a:Person {name: 'Alice'})-[r:KNOWS]->(b) RETURN a, r, b, p, labels(a) AS l, type(r) AS t");
        assert.equal(r.records.length, 1);
        const [a, rel, b, p] = ['a', 'r', 'b', 'p'].map(k => r.records[0].get(k));
        assert.ok(a instanceof neo4j.types.Node);
        assert.deepEqual(a.labels, ['Person']);
        assert.equal(a.properties.name, 'Alice');
        assert.equal(a.properties.age.toNumber(), 33);
        assert.ok(rel instanceof neo4j.types.Relationship);
        assert.equal(rel.type, 'KNOWS');
        assert.ok(rel.start.equals(a.identity));
        assert.ok(rel.end.equals(b.identity));
        assert.equal(rel.properties.since.toNumber(), 2020);
        if (!version.startsWith('4')) {
            assert.equal(a.elementId, '4:refserver:' + a.identity.toString());
            assert.equal(rel.startNodeElementId, a.elementId);
            assert.equal(rel.endNodeElementId, b.elementId);
        }
        assert.ok(p instanceof neo4j.types.Path);
        assert.equal(p.length, 1);
        assert.ok(p.start.identity.equals(a.identity));
        assert.ok(p.end.identity.equals(b.identity));
        assert.ok(p.segments[0].relationship.start.equals(a.identity));
        assert.deepEqual(r.records[0].get('l'), ['Person']);
        assert.equal(r.records[0].get('t'), 'KNOWS');
        // Walked against the direction: the relationship keeps its own direction.
        const back = await d.executeQuery("MATCH p = (b:Person {name: 'Bob'})<-[r:KNOWS]-(a) RETURN p");
        const bp = back.records[0].get('p');
        assert.equal(bp.start.properties.name, 'Bob');
        assert.equal(bp.end.properties.name, 'Alice');
        assert.ok(bp.segments[0].relationship.start.equals(bp.end.identity));
    });

    await check(`${label}: UNWIND range streams 100000 records with PULL n / has_more`, async () => {
        const s = d.session({ fetchSize: 1000 });
        try {
            let n = 0, sum = 0;
            const res = s.run('UNWIND range(1, 100000) AS x RETURN x');
            for await (const rec of res) {
                n++;
                sum += rec.get('x').toNumber();
            }
            assert.equal(n, 100000);
            assert.equal(sum, 100000 * 100001 / 2);
            const r2 = await s.run('UNWIND range(10, 1, -3) AS x RETURN x');
            assert.deepEqual(r2.records.map(x => x.get('x').toNumber()), [10, 7, 4, 1]);
            const r3 = await s.run('UNWIND $xs AS x RETURN x', { xs: ['a', 'b'] });
            assert.deepEqual(r3.records.map(x => x.get('x')), ['a', 'b']);
        } finally {
            await s.close();
        }
    });

    await check(`${label}: CREATE and MATCH with counters`, async () => {
        const tag = `T${label.replace(/\W/g, '')}`;
        const r = await d.executeQuery(`CREATE (n:${tag} {name: $name, n: 7}) RETURN n`, { name: 'x' });
        const c = r.summary.counters.updates();
        assert.equal(c.nodesCreated, 1);
        assert.equal(c.propertiesSet, 2);
        assert.equal(c.labelsAdded, 1);
        assert.equal(r.summary.queryType, 'rw');
        const r2 = await d.executeQuery(`CREATE (a:${tag})-[k:LINK {w: 1}]->(b:${tag}) RETURN k`);
        assert.equal(r2.summary.counters.updates().relationshipsCreated, 1);
        const m = await d.executeQuery(`MATCH (n:${tag}) RETURN count(n) AS c`);
        assert.equal(m.records[0].get('c').toNumber(), 3);
        const del = await d.executeQuery(`MATCH (n:${tag}) DETACH DELETE n`);
        assert.equal(del.summary.counters.updates().nodesDeleted, 3);
        assert.equal(del.summary.counters.updates().relationshipsDeleted, 1);
    });

    await check(`${label}: explicit transactions, rollback, bookmarks`, async () => {
        const tag = `B${label.replace(/\W/g, '')}`;
        const s1 = d.session({ defaultAccessMode: neo4j.session.WRITE });
        await s1.executeWrite(tx => tx.run(`CREATE (:${tag} {v: 1})`));
        const tx = await s1.beginTransaction();
        await tx.run(`CREATE (:${tag} {v: 2})`);
        const inside = await tx.run(`MATCH (n:${tag}) RETURN count(n) AS c`);
        assert.equal(inside.records[0].get('c').toNumber(), 2);
        await tx.rollback();
        const bookmarks = s1.lastBookmarks();
        await s1.close();
        assert.ok(bookmarks.length >= 1 && bookmarks[0].startsWith('FB:refserver:'), String(bookmarks));
        const s2 = d.session({ bookmarks, defaultAccessMode: neo4j.session.READ });
        const r = await s2.executeRead(tx2 => tx2.run(`MATCH (n:${tag}) RETURN count(n) AS c`));
        assert.equal(r.records[0].get('c').toNumber(), 1);
        await s2.close();
        const s3 = d.session({ bookmarks: ['not-a-bookmark'] });
        await expectError(s3.run('RETURN 1'), 'Neo.ClientError.Transaction.InvalidBookmark');
        await s3.close();
        await d.executeQuery(`MATCH (n:${tag}) DELETE n`);
    });

    await check(`${label}: syntax error keeps code and GQL status; session recovers`, async () => {
        const s = d.session();
        try {
            const e = await expectError(s.run('RETRUN 1'), 'Neo.ClientError.Statement.SyntaxError', gql ? '42001' : undefined);
            assert.match(e.message, /Invalid input 'RETRUN'/);
            if (gql) {
                // 5.7+: a description and a cause chain, each with its GQL status.
                assert.match(e.gqlStatusDescription, /invalid syntax/);
                assert.ok(e.cause, 'the FAILURE has a cause');
                assert.equal(e.cause.gqlStatus, '42I06');
                assert.match(e.cause.gqlStatusDescription, /Invalid input 'RETRUN'/);
            }
            const r = await s.run('RETURN 2 AS two');
            assert.equal(r.records[0].get('two').toNumber(), 2);
            await expectError(s.run('RETURN $missing'), 'Neo.ClientError.Statement.ParameterMissing');
            await expectError(s.run('CALL db.nothing(1)'), 'Neo.ClientError.Procedure.ProcedureNotFound');
        } finally {
            await s.close();
        }
    });

    await check(`${label}: a slow query is interrupted by RESET`, async () => {
        const s = d.session();
        const t0 = Date.now();
        const pending = s.run('CALL apoc.util.sleep(20000)').then(() => 'finished', e => 'error: ' + e.code);
        await new Promise(r => setTimeout(r, 300));
        await s.close();                      // the driver sends RESET
        const outcome = await pending;
        assert.ok(Date.now() - t0 < 5000, `RESET took ${Date.now() - t0} ms (${outcome})`);
        const r = await d.executeQuery('RETURN 1 AS one');   // the pool is healthy
        assert.equal(r.records[0].get('one').toNumber(), 1);
    });

    await check(`${label}: EXPLAIN and PROFILE`, async () => {
        const e = await d.executeQuery('EXPLAIN RETURN 1 AS x');
        assert.equal(e.records.length, 0);
        assert.equal(e.summary.plan.operatorType, 'ProduceResults@neo4j');
        assert.deepEqual(e.summary.plan.identifiers, ['x']);
        const p = await d.executeQuery('PROFILE UNWIND range(1, 5) AS x RETURN x');
        assert.equal(p.records.length, 5);
        assert.equal(p.summary.profile.rows, 5);
    });

    await check(`${label}: notifications (unknown label / relationship type)`, async () => {
        const r = await d.executeQuery('MATCH (n:NoSuchLabel) RETURN n');
        assert.equal(r.records.length, 0);
        const n = r.summary.notifications;
        assert.equal(n.length, 1);
        assert.equal(n[0].code, 'Neo.ClientNotification.Statement.UnknownLabelWarning');
        assert.equal(n[0].severityLevel, 'WARNING');
        assert.equal(n[0].category, 'UNRECOGNIZED');
        assert.equal(n[0].position.offset, 9);
        assert.equal(n[0].position.column, 10);
        if (gql) {
            const g = r.summary.gqlStatusObjects.find(o => o.gqlStatus === '01N50');
            assert.ok(g, JSON.stringify(r.summary.gqlStatusObjects));
        }
        const r2 = await d.executeQuery('MATCH (a)-[r:NO_SUCH_TYPE]->(b) RETURN r');
        assert.equal(r2.summary.notifications[0].code, 'Neo.ClientNotification.Statement.UnknownRelationshipTypeWarning');
        const r3 = await d.executeQuery("MATCH (n:Person) RETURN n");
        assert.equal(r3.summary.notifications.length, 0);
        if (version >= '5.2') {
            // Notification filters: per session (RUN / BEGIN extra) ...
            const s = d.session({ notificationFilter: { minimumSeverityLevel: 'OFF' } });
            const off = await s.run('MATCH (n:NoSuchLabel) RETURN n');
            assert.equal(off.summary.notifications.length, 0);
            await s.close();
            const s2 = d.session({ notificationFilter: { disabledClassifications: ['UNRECOGNIZED'] } });
            const off2 = await s2.executeRead(tx => tx.run('MATCH (n:NoSuchLabel) RETURN n'));
            assert.equal(off2.summary.notifications.length, 0);
            await s2.close();
            // ... and per connection (HELLO).
            await withDriver(url, { notificationFilter: { minimumSeverityLevel: 'OFF' } }, async d2 => {
                const off3 = await d2.executeQuery('MATCH (n:NoSuchLabel) RETURN n');
                assert.equal(off3.summary.notifications.length, 0);
                const s3 = d2.session({ notificationFilter: { minimumSeverityLevel: 'WARNING' } });
                const on = await s3.run('MATCH (n:NoSuchLabel) RETURN n');   // RUN overrides HELLO
                assert.equal(on.summary.notifications.length, 1);
                await s3.close();
            });
        }
    });

    await check(`${label}: tx_timeout terminates a slow transaction`, async () => {
        const s = d.session();
        try {
            const t0 = Date.now();
            await expectError(s.run('CALL apoc.util.sleep(10000)', {}, { timeout: 300 }),
                'Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration');
            assert.ok(Date.now() - t0 < 3000, `timed out after ${Date.now() - t0} ms`);
            const r = await s.run('RETURN 1 AS x');
            assert.equal(r.records[0].get('x').toNumber(), 1);
        } finally {
            await s.close();
        }
    });

    if (version >= '6.0') {
        await check(`${label}: vectors both ways (parameters, VECTOR(), properties)`, async () => {
            const f32 = neo4j.vector(new Float32Array([0.25, -1.5, 3]));
            const i64 = neo4j.vector(new BigInt64Array([-9007199254740993n, 7n]));
            const r = await d.executeQuery(
                'RETURN $f AS f, $i AS i, VECTOR([1, -2, 127], 3, INTEGER8) AS b, VECTOR([0.5, 2], 2, FLOAT) AS d',
                { f: f32, i: i64 });
            const rec = r.records[0];
            assert.ok(neo4j.isVector(rec.get('f')));
            assert.equal(rec.get('f').getType(), 'FLOAT32');
            assert.deepEqual(Array.from(rec.get('f').asTypedArray()), [0.25, -1.5, 3]);
            assert.equal(rec.get('i').getType(), 'INT64');
            assert.deepEqual(Array.from(rec.get('i').asTypedArray()), [-9007199254740993n, 7n]);
            assert.equal(rec.get('b').getType(), 'INT8');
            assert.deepEqual(Array.from(rec.get('b').asTypedArray()), [1, -2, 127]);
            assert.equal(rec.get('d').getType(), 'FLOAT64');
            assert.deepEqual(Array.from(rec.get('d').asTypedArray()), [0.5, 2]);
            const tag = `V${label.replace(/\W/g, '')}`;
            await d.executeQuery(`CREATE (n:${tag} {e: $f})`, { f: f32 });
            const back = await d.executeQuery(`MATCH (n:${tag}) RETURN n.e AS e`);
            assert.deepEqual(Array.from(back.records[0].get('e').asTypedArray()), [0.25, -1.5, 3]);
            await d.executeQuery(`MATCH (n:${tag}) DELETE n`);
        });
    }

    await check(`${label}: an interactive transaction across statements; state checks`, async () => {
        const tag = `I${label.replace(/\W/g, '')}`;
        const s = d.session();
        try {
            const tx = await s.beginTransaction({ timeout: 5000, metadata: { app: 'check' } });
            const first = await tx.run(`CREATE (n:${tag} {v: 20}) RETURN n.v AS v`);
            const v = first.records[0].get('v').toNumber();
            await tx.run(`CREATE (n:${tag} {v: $v})`, { v: neo4j.int(v + 1) });
            const seen = await tx.run(`MATCH (n:${tag}) WHERE n.v > $min RETURN n.v AS v`, { min: 20 });
            assert.deepEqual(seen.records.map(x => x.get('v').toNumber()), [21]);
            // A failure inside ends the transaction (the driver then refuses
            // to go on with it, as libgraphjob's session does).
            await expectError(tx.run('RETRUN 1'), 'Neo.ClientError.Statement.SyntaxError');
            await expectError(tx.run('RETURN 1'));
            const none = await d.executeQuery(`MATCH (n:${tag}) RETURN count(n) AS c`);
            assert.equal(none.records[0].get('c').toNumber(), 0);
        } finally {
            await s.close();
        }
    });

    await check(`${label}: database selection and access mode`, async () => {
        await expectError(d.executeQuery('RETURN 1', {}, { database: 'nope' }), 'Neo.ClientError.Database.DatabaseNotFound');
        const ok = await d.executeQuery('RETURN 1 AS x', {}, { database: 'neo4j' });
        assert.equal(ok.summary.database.name, 'neo4j');
        const s = d.session({ defaultAccessMode: neo4j.session.READ });
        await expectError(s.run('CREATE (n:Nope)'), 'Neo.ClientError.Statement.AccessMode');
        await s.close();
    });
}

// ---- configurations -------------------------------------------------------------------

async function tlsFiles(dir) {
    const key = path.join(dir, 'key.pem'), cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
        '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: 'ignore' });
    return { key, cert };
}

async function main() {
    // Bolt 5.x through the manifest handshake.
    await withServer(['--seed'], async srv => {
        await withDriver(srv.url('bolt'), {}, d => repertoire(d, 'bolt 5.8', { version: '5.8', gql: true, url: srv.url('bolt') }));
    });

    // Bolt 6.0 (Neo4j 2025.10+) through the manifest handshake: vectors.
    await withServer(['--seed', '--versions', '6.0,5.8,5.7,5.6,5.4,5.3,5.2,5.1,5.0,4.4', '--server-agent', 'Neo4j/2025.10.1'], async srv => {
        await withDriver(srv.url('bolt'), {}, d => repertoire(d, 'bolt 6.0', { version: '6.0', gql: true, url: srv.url('bolt'), agent: 'Neo4j/2025.10.1' }));
    });

    // Bolt 4.4 only (the driver asks for the utc patch).
    await withServer(['--seed', '--versions', '4.4'], async srv => {
        await withDriver(srv.url('bolt'), {}, d => repertoire(d, 'bolt 4.4', { version: '4.4', gql: false, url: srv.url('bolt') }));
    });

    // 5.x through the legacy handshake; 5.0 (credentials in HELLO, no LOGON).
    await withServer(['--seed', '--no-manifest'], async srv => {
        await withDriver(srv.url('bolt'), {}, async d => {
            await check('legacy handshake: negotiates 5.8 from a range proposal', async () => {
                const info = await d.getServerInfo();
                assert.equal(`${info.protocolVersion.major}.${info.protocolVersion.minor}`, '5.8');
            });
        });
    });
    await withServer(['--seed', '--versions', '5.0', '--no-manifest'], async srv => {
        await withDriver(srv.url('bolt'), {}, d => repertoire(d, 'bolt 5.0', { version: '5.0', gql: false, url: srv.url('bolt') }));
    });

    // Authentication.
    await withServer([], async srv => {
        await check('wrong password is refused (Bolt 5.8, LOGON)', async () => {
            const d = neo4j.driver(srv.url('bolt'), neo4j.auth.basic('neo4j', 'wrong'), { connectionTimeout: 10000 });
            try {
                await expectError(d.getServerInfo(), 'Neo.ClientError.Security.Unauthorized');
            } finally {
                await d.close();
            }
        });
    });
    await withServer(['--versions', '4.4'], async srv => {
        await check('wrong password is refused (Bolt 4.4, credentials in HELLO)', async () => {
            const d = neo4j.driver(srv.url('bolt'), neo4j.auth.basic('neo4j', 'wrong'), { connectionTimeout: 10000 });
            try {
                await expectError(d.getServerInfo(), 'Neo.ClientError.Security.Unauthorized');
            } finally {
                await d.close();
            }
        });
    });

    // Several users, LOGOFF / LOGON re-authentication, impersonation.
    await withServer(['--add-user', 'alice:secret'], async srv => {
        await check('a second user; re-authentication per session (LOGOFF + LOGON)', async () => {
            await withDriver(srv.url('bolt'), { maxConnectionPoolSize: 1 }, async d => {
                const s = d.session({ auth: neo4j.auth.basic('alice', 'secret') });
                const r = await s.run('RETURN 1 AS x');
                assert.equal(r.records[0].get('x').toNumber(), 1);
                await s.close();
                const r2 = await d.executeQuery('RETURN 2 AS x');   // same connection, back to neo4j
                assert.equal(r2.records[0].get('x').toNumber(), 2);
                // A failed LOGON closes the connection (as Neo4j does); the
                // driver reports the server's message (as a ProtocolError
                // when it was re-authenticating a pooled connection).
                const bad = d.session({ auth: neo4j.auth.basic('alice', 'nope') });
                const e = await expectError(bad.run('RETURN 1'));
                assert.match(e.message, /unauthorized due to authentication failure/);
                await bad.close().catch(() => {});
                const r3 = await d.executeQuery('RETURN 3 AS x');   // the pool recovers
                assert.equal(r3.records[0].get('x').toNumber(), 3);
            });
        });
        await check('impersonation of a known user works, of an unknown user is forbidden', async () => {
            await withDriver(srv.url('bolt'), {}, async d => {
                const ok = await d.executeQuery('RETURN 1 AS x', {}, { impersonatedUser: 'alice' });
                assert.equal(ok.records[0].get('x').toNumber(), 1);
                await expectError(d.executeQuery('RETURN 1', {}, { impersonatedUser: 'mallory' }),
                    'Neo.ClientError.Security.Forbidden');
            });
        });
    });

    // neo4j:// routing over a three-member cluster on loopback.
    for (const versions of [['5.8,5.7,5.6,5.4,5.3,5.2,5.1,5.0,4.4', '5.8'], ['4.4', '4.4']]) {
        await withServer(['--seed', '--members', '3', '--ttl', '60', '--versions', versions[0]], async srv => {
            await withDriver(srv.url('neo4j'), {}, async d => {
                await check(`neo4j:// (Bolt ${versions[1]}): ROUTE, writes to the writer, reads from readers`, async () => {
                    const w = await d.executeQuery('CREATE (n:Routed {v: 1}) RETURN n', {}, { routing: neo4j.routing.WRITE });
                    assert.equal(w.summary.server.address, srv.addr(0));
                    assert.equal(`${w.summary.server.protocolVersion.major}.${w.summary.server.protocolVersion.minor}`, versions[1]);
                    const readers = new Set();
                    for (let i = 0; i < 6; i++) {
                        const r = await d.executeQuery('MATCH (n:Routed) RETURN count(n) AS c', {}, { routing: neo4j.routing.READ });
                        assert.equal(r.records[0].get('c').toNumber(), 1);
                        readers.add(r.summary.server.address);
                    }
                    for (const a of readers)
                        assert.ok(a === srv.addr(1) || a === srv.addr(2), `read served by ${a}`);
                    assert.equal(readers.size, 2, 'reads are balanced over both readers');
                });
                await check(`neo4j:// (Bolt ${versions[1]}): a follower refuses writes with NotALeader`, async () => {
                    await withDriver(srv.url('bolt', 1), {}, async direct => {
                        await expectError(direct.executeQuery('CREATE (n:Nope)'), 'Neo.ClientError.Cluster.NotALeader');
                    });
                });
            });
        }, 3);
    }

    // Failover: cluster members die and come back (in-process, --control).
    await withServer(['--seed', '--members', '3', '--ttl', '1', '--control'], async srv => {
        await withDriver(srv.url('neo4j'), { maxTransactionRetryTime: 10000 }, async d => {
            await check('neo4j:// failover: reads move to the reader that is alive', async () => {
                const r0 = await d.executeQuery('RETURN 1 AS x', {}, { routing: neo4j.routing.READ });
                assert.equal(r0.records[0].get('x').toNumber(), 1);
                await srv.command('stop-member 1');
                for (let i = 0; i < 6; i++) {
                    const r = await d.executeQuery('MATCH (n:Person) RETURN count(n) AS c', {}, { routing: neo4j.routing.READ });
                    assert.equal(r.records[0].get('c').toNumber(), 3);
                    assert.equal(r.summary.server.address, srv.addr(2));
                }
                await srv.command('start-member 1');
            });
            await check('neo4j:// failover: writes fail while the writer is down and work after it returns', async () => {
                await srv.command('stop-member 0');
                const dq = driverFor(srv.url('neo4j', 1), { maxTransactionRetryTime: 1000 });
                try {
                    await expectError(dq.executeQuery('CREATE (n:Fail)', {}, { routing: neo4j.routing.WRITE }));
                } finally {
                    await dq.close();
                }
                await srv.command('start-member 0');
                const w = await d.executeQuery('CREATE (n:Back) RETURN n', {}, { routing: neo4j.routing.WRITE });
                assert.equal(w.summary.server.address, srv.addr(0));
            });
        });
    }, 3);

    // TLS.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neo4j-check-'));
    try {
        const { key, cert } = await tlsFiles(dir);
        await withServer(['--seed', '--tls-cert', cert, '--tls-key', key], async srv => {
            await withDriver(srv.url('bolt+ssc'), {}, async d => {
                await check('bolt+ssc:// accepts the self-signed certificate', async () => {
                    const r = await d.executeQuery("MATCH (n:Person {name: 'Carol'}) RETURN n.name AS name");
                    assert.equal(r.records[0].get('name'), 'Carol');
                });
            });
            await withDriver(srv.url('bolt'), { encrypted: 'ENCRYPTION_ON', trust: 'TRUST_CUSTOM_CA_SIGNED_CERTIFICATES', trustedCertificates: [cert] }, async d => {
                await check('bolt with a custom CA file verifies the chain and the host', async () => {
                    const r = await d.executeQuery('UNWIND range(1, 3000) AS x RETURN x');
                    assert.equal(r.records.length, 3000);
                });
            });
            await withDriver(srv.url('neo4j+ssc'), {}, async d => {
                await check('neo4j+ssc:// routes over TLS', async () => {
                    const r = await d.executeQuery('RETURN 1 AS x', {}, { routing: neo4j.routing.READ });
                    assert.equal(r.records[0].get('x').toNumber(), 1);
                });
            });
            await check('plain bolt:// against the TLS port fails', async () => {
                const d = driverFor(srv.url('bolt'), { connectionTimeout: 3000, maxConnectionLifetime: 1000 });
                try {
                    await expectError(d.getServerInfo());
                } finally {
                    await d.close();
                }
            });
        });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }

    // Notification filter keys by version: the driver sends categories on
    // 5.2-5.4 (classifications from 5.5); the server honours only its
    // version's key, as libgraphjob's tests rely on.
    await withServer(['--versions', '5.4'], async srv => {
        await check('bolt 5.4: disabled categories in RUN and HELLO filter the warning', async () => {
            await withDriver(srv.url('bolt'), {}, async d => {
                const on = await d.executeQuery('MATCH (n:NoSuchLabel) RETURN n');
                assert.equal(on.summary.notifications.length, 1);
                const s = d.session({ notificationFilter: { disabledCategories: ['UNRECOGNIZED'] } });
                const off = await s.run('MATCH (n:NoSuchLabel) RETURN n');
                assert.equal(off.summary.notifications.length, 0);
                await s.close();
            });
            await withDriver(srv.url('bolt'), { notificationFilter: { disabledCategories: ['UNRECOGNIZED'] } }, async d => {
                const off = await d.executeQuery('MATCH (n:NoSuchLabel) RETURN n');
                assert.equal(off.summary.notifications.length, 0);
            });
        });
    });

    // TELEMETRY: sent only when the server hints telemetry.enabled; the api
    // numbers the driver uses (auto-commit 2, transaction function 0,
    // unmanaged transaction 1, executeQuery 3) reach the server's log.
    for (const hint of [true, false]) {
        await withServer(hint ? ['--telemetry-hint', '--verbose'] : ['--verbose'], async srv => {
            await check(`TELEMETRY ${hint ? 'with' : 'without'} the server's hint`, async () => {
                await withDriver(srv.url('bolt'), { maxConnectionPoolSize: 1 }, async d => {
                    const s = d.session();
                    await s.run('RETURN 1');
                    await s.executeRead(tx => tx.run('RETURN 1'));
                    const tx = await s.beginTransaction();
                    await tx.run('RETURN 1');
                    await tx.commit();
                    await s.close();
                    await d.executeQuery('RETURN 1');
                });
                const log = srv.stderr();
                for (const api of [0, 1, 2, 3])
                    assert.equal(log.includes(`TELEMETRY api ${api}`), hint, `api ${api}: ${log.slice(-3000)}`);
            });
        });
    }

    // Fault injection: the driver sees an error, never a hang.
    await withServer(['--fault', 'close-mid-stream:after=10,query=range'], async srv => {
        await withDriver(srv.url('bolt'), { maxTransactionRetryTime: 0 }, async d => {
            await check('fault close-mid-stream: the driver reports a broken connection', async () => {
                const s = d.session();
                try {
                    await expectError(s.run('UNWIND range(1, 1000) AS x RETURN x'));
                } finally {
                    await s.close().catch(() => {});
                }
                const r = await d.executeQuery('RETURN 1 AS x');   // a new connection works
                assert.equal(r.records[0].get('x').toNumber(), 1);
            });
        });
    });
    await withServer(['--fault', 'garbage:on=PULL,count=1'], async srv => {
        await withDriver(srv.url('bolt'), {}, async d => {
            await check('fault garbage: the driver reports a protocol error', async () => {
                const s = d.session();
                try {
                    await expectError(s.run('RETURN 1'));
                } finally {
                    await s.close().catch(() => {});
                }
            });
        });
    });
    await withServer(['--fault', 'stall:on=PULL,secs=1.5,count=1'], async srv => {
        await withDriver(srv.url('bolt'), {}, async d => {
            await check('fault stall: the answer arrives after the stall', async () => {
                const t0 = Date.now();
                const r = await d.executeQuery('RETURN 1 AS x');
                assert.equal(r.records[0].get('x').toNumber(), 1);
                assert.ok(Date.now() - t0 >= 1400, `answered after ${Date.now() - t0} ms`);
            });
        });
    });

    console.log(`${passed} passed, ${failures} failed`);
    process.exit(failures ? 1 : 0);
}

main().catch(e => {
    console.error(e);
    process.exit(99);
});

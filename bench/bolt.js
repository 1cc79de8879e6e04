#!/usr/bin/env node
// bench/bolt.js — the neo4j-driver (JS) side of bench/bolt: the same
// workloads as the C side, against a bolt-refserver that bench/bolt started.
//
// usage: node bolt.js PORT QUERIES TRANSACTIONS STATEMENTS ROWS TIME_LIMIT_S
// Prints one "name value" line per figure (best of 3; value per second) and
// "done" last.  Exits 1 on a wrong answer, 77 when neo4j-driver is missing,
// 3 when the whole run passes 4 x TIME_LIMIT_S.
'use strict';

const path = require('path');

let neo4j;
try {
    neo4j = require(path.join(__dirname, '..', 'tests', 'peers', 'node_modules', 'neo4j-driver'));
} catch (e) {
    console.log('skip neo4j-driver is not installed (npm ci in tests/peers)');
    process.exit(77);
}

const [port, queries, txs, stmts, rows, limitS] = process.argv.slice(2, 8).map(Number);
if (!(port > 0) || !(queries > 0) || !(txs > 0) || !(stmts > 0) || !(rows > 0) || !(limitS > 0)) {
    console.error('usage: node bolt.js PORT QUERIES TRANSACTIONS STATEMENTS ROWS TIME_LIMIT_S');
    process.exit(2);
}
const LIMIT_MS = limitS * 1000;
const SMALL = 'RETURN 1 AS x';

// A hard bound for the whole run, whatever happens.
setTimeout(() => {
    console.error('bolt.js: time limit reached');
    process.exit(3);
}, 4 * LIMIT_MS).unref();

function now() { return Number(process.hrtime.bigint()) / 1e9; }

function check(cond, what) {
    if (!cond)
        throw new Error('wrong answer: ' + what);
}

// Best of 3 of fn(), which returns { count, seconds }; the rate per second.
async function best(name, fn) {
    let top = 0;
    for (let i = 0; i < 3; i++) {
        const { count, seconds } = await fn();
        top = Math.max(top, count / seconds);
    }
    console.log(name + ' ' + top.toFixed(1));
}

async function main() {
    const driver = neo4j.driver('bolt://127.0.0.1:' + port, neo4j.auth.basic('neo4j', 'password'), {
        maxConnectionPoolSize: 1,
        connectionAcquisitionTimeout: LIMIT_MS * 4,
        userAgent: 'libgraphjob-bench/js',
    });
    try {
        // Warm up: connection open, JIT.
        {
            const s = driver.session();
            for (let i = 0; i < 200; i++)
                await s.run(SMALL);
            await s.close();
        }

        // One query at a time on one session: run, wait for its records.
        await best('unpipelined', async () => {
            const s = driver.session();
            const t0 = now();
            let n = 0;
            while (n < queries && now() - t0 < LIMIT_MS / 1000) {
                const res = await s.run(SMALL);
                check(res.records.length === 1 && res.records[0].get(0).toNumber() === 1, 'RETURN 1');
                n++;
            }
            const dt = now() - t0;
            await s.close();
            return { count: n, seconds: dt };
        });

        // All queries issued at once, one session each, sharing the one
        // pooled connection.
        await best('queued', async () => {
            const t0 = now();
            await Promise.all(Array.from({ length: queries }, async () => {
                const s = driver.session();
                try {
                    const res = await s.run(SMALL);
                    check(res.records.length === 1, 'RETURN 1 (queued)');
                } finally {
                    await s.close();
                }
            }));
            return { count: queries, seconds: now() - t0 };
        });

        // Explicit transactions, each with `stmts` statements run without
        // waiting (the driver pipelines them), then COMMIT.
        await best('transaction', async () => {
            const s = driver.session();
            const t0 = now();
            let n = 0;
            while (n < txs && now() - t0 < LIMIT_MS / 1000) {
                const tx = s.beginTransaction();
                const results = await Promise.all(Array.from({ length: stmts }, () => tx.run(SMALL)));
                check(results.length === stmts && results[stmts - 1].records.length === 1, 'transaction');
                await tx.commit();
                n++;
            }
            const dt = now() - t0;
            await s.close();
            return { count: n * stmts, seconds: dt };
        });

        const unwind = 'UNWIND range(1, ' + rows + ') AS x RETURN x';
        const wantSum = rows * (rows + 1) / 2;

        // Records streamed to a callback.
        await best('records_cb', async () => {
            const s = driver.session();
            const t0 = now();
            let n = 0, sum = 0;
            await new Promise((resolve, reject) => {
                s.run(unwind).subscribe({
                    onNext: (r) => { n++; sum += r.get(0).toNumber(); },
                    onCompleted: resolve,
                    onError: reject,
                });
            });
            const dt = now() - t0;
            await s.close();
            check(n === rows && sum === wantSum, 'UNWIND through onNext: ' + n + ' rows');
            return { count: n, seconds: dt };
        });

        // Records collected into the result.
        await best('records_collected', async () => {
            const s = driver.session();
            const t0 = now();
            const res = await s.run(unwind);
            const dt = now() - t0;
            await s.close();
            check(res.records.length === rows && res.records[rows - 1].get(0).toNumber() === rows,
                  'UNWIND collected: ' + res.records.length + ' rows');
            return { count: rows, seconds: dt };
        });
    } finally {
        await driver.close();
    }
    console.log('done');
}

main().then(() => process.exit(0), (e) => {
    console.error('bolt.js: ' + (e && e.stack || e));
    process.exit(1);
});

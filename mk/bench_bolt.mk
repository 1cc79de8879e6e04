# mk/bench_bolt.mk — bench/bolt (issue 3 benchmark).

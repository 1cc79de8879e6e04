# mk/bench_arango.mk — bench/arango (issue 4 benchmark).

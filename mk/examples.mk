# mk/examples.mk — examples/: small complete programs to copy from, one per
# backend, an epoll loop on the event fd, a bulk loader, and a libmicrohttpd
# service with its load test.  They use only the public API (linked with the
# installed library's target), are built by `make check`, and are run there
# against the reference servers by examples/run-examples.sh.  libgraphjob-dev
# ships their sources in /usr/share/doc/libgraphjob-dev/examples.
check_PROGRAMS += examples/bolt examples/arango examples/gremlin examples/graphql \
	examples/epoll_loop examples/bulk_load
examples_bolt_SOURCES = examples/bolt.c
examples_bolt_LDADD = libgraphjob.la
examples_arango_SOURCES = examples/arango.c
examples_arango_LDADD = libgraphjob.la
examples_gremlin_SOURCES = examples/gremlin.c
examples_gremlin_LDADD = libgraphjob.la
examples_graphql_SOURCES = examples/graphql.c
examples_graphql_LDADD = libgraphjob.la
examples_epoll_loop_SOURCES = examples/epoll_loop.c
examples_epoll_loop_LDADD = libgraphjob.la
examples_bulk_load_SOURCES = examples/bulk_load.c
examples_bulk_load_LDADD = libgraphjob.la

if HAVE_MHD
check_PROGRAMS += examples/http_service examples/http_load
examples_http_service_SOURCES = examples/http_service.c
examples_http_service_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS)
examples_http_service_LDADD = libgraphjob.la $(MHD_LIBS)
examples_http_load_SOURCES = examples/http_load.c
examples_http_load_LDADD = $(CURL_LIBS)
endif

TESTS += examples/run-examples.sh
EXTRA_DIST += examples/run-examples.sh examples/http_service.c examples/http_load.c
EXTRA_DIST += examples/README.md

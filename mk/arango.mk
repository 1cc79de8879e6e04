# mk/arango.mk — ArangoDB test tooling: the reference server
# (tests/servers/arango, libmicrohttpd + json-c + OpenSSL), its libcurl smoke
# check, and the arangojs cross-check (tests/peers/run-arango.sh).
EXTRA_DIST += tests/peers/arango_check.js tests/peers/run-arango.sh tests/peers/.gitignore \
	tests/servers/arango/README.md

if HAVE_MHD
noinst_PROGRAMS += tests/servers/arango/arango-refserver
tests_servers_arango_arango_refserver_SOURCES = \
	tests/servers/arango/rs.h \
	tests/servers/arango/main.c \
	tests/servers/arango/http.c \
	tests/servers/arango/util.c \
	tests/servers/arango/store.c \
	tests/servers/arango/trx.c \
	tests/servers/arango/api_admin.c \
	tests/servers/arango/api_document.c \
	tests/servers/arango/aql.h \
	tests/servers/arango/aql_parse.c \
	tests/servers/arango/aql_exec.c \
	tests/servers/arango/api_cursor.c \
	tests/servers/arango/jobs.c
tests_servers_arango_arango_refserver_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS)
tests_servers_arango_arango_refserver_LDADD = $(MHD_LIBS) $(JSONC_LIBS) $(OPENSSL_LIBS)

check_PROGRAMS += tests/servers/arango/arango-smoke
tests_servers_arango_arango_smoke_SOURCES = tests/servers/arango/smoke.c
tests_servers_arango_arango_smoke_LDADD = $(CURL_LIBS) $(JSONC_LIBS) $(OPENSSL_LIBS)
TESTS += tests/servers/arango/arango-smoke tests/peers/run-arango.sh
endif

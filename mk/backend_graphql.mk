# mk/backend_graphql.mk — the GraphQL client backend (lib/backend/graphql):
# GraphQL over HTTP (lib/transport/http), graphql-sse, and subscriptions over
# WebSocket (lib/transport/ws), with integration tests against real npm
# GraphQL servers (tests/peers/graphql_*.js; skipped without node).
libgraphjob_internal_la_SOURCES += \
	lib/backend/graphql/gql.h \
	lib/backend/graphql/graphql.c \
	lib/backend/graphql/gql_doc.c \
	lib/backend/graphql/gql_reply.c \
	lib/backend/graphql/gql_http.c \
	lib/backend/graphql/gql_batch.c \
	lib/backend/graphql/gql_ws.c \
	lib/backend/graphql/gql_sse.c
libgraphjob_internal_la_CPPFLAGS += -DGJ_HAVE_GRAPHQL_BACKEND
EXTRA_DIST += docs/graphql.md tests/peers/graphql_schema.js tests/peers/graphql_http_server.js \
	tests/peers/graphql_yoga_server.js tests/peers/graphql_ws_server.js

if HAVE_GTEST
check_PROGRAMS += tests/integration/graphql_test
TESTS += tests/integration/graphql_test
tests_integration_graphql_test_SOURCES = tests/integration/graphql_test.cc \
	tests/integration/server_process.cc tests/integration/server_process.h \
	tests/integration/arango_server.h tests/integration/arango_server.cc \
	tests/common/server_spawn.h
tests_integration_graphql_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_integration_graphql_test_LDADD = $(GJ_TEST_LIBS)
endif

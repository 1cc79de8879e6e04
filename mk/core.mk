# mk/core.mk — job engine, client, requests, results, errors, logging, clocks.
libgraphjob_internal_la_SOURCES += \
	lib/core/internal.h lib/core/settings.h lib/core/sink.h lib/core/pool.h \
	lib/backend/backend.h
libgraphjob_internal_la_SOURCES += lib/core/error.c lib/core/log.c lib/core/clock.c

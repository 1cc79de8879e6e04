# mk/core.mk — job engine, client, requests, results, errors, logging, clocks.
libgraphjob_internal_la_SOURCES += \
	lib/core/internal.h lib/core/settings.h lib/core/sink.h lib/core/pool.h \
	lib/backend/backend.h
libgraphjob_internal_la_SOURCES += lib/core/error.c lib/core/log.c lib/core/clock.c
libgraphjob_internal_la_SOURCES += \
	lib/core/request.c lib/core/request_internal.h \
	lib/core/sink.c lib/core/sink_internal.h \
	lib/core/job.c lib/core/registry.c lib/core/client.c lib/core/job_internal.h \
	lib/backend/registry.c

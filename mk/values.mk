# mk/values.mk — the value model (lib/core/value.c) and its JSON text (lib/core/json.c).
libgraphjob_internal_la_SOURCES += \
	lib/core/value.c lib/core/value_internal.h lib/core/json.c

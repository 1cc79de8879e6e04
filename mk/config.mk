# mk/config.mk — configuration: URLs, YAML and JSON files, typed setters and
# getters (lib/core/config*.c).
libgraphjob_internal_la_SOURCES += \
	lib/core/config.c lib/core/config_internal.h lib/core/config_text.c \
	lib/core/config_url.c lib/core/config_doc.c lib/core/config_yaml.c \
	lib/core/config_json.c

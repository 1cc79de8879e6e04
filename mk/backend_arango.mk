# mk/backend_arango.mk — the ArangoDB client backend (lib/backend/arango).

# mk/backend_bolt.mk — the Bolt client backend (lib/backend/bolt).

-- trainledger log, schema 2: writer leases.
-- A writer holds a lease on its run while it appends (heartbeat every 2 s from the writer
-- thread). Leases are coordination, not history: this is the one table that is updated and
-- deleted, and nothing derived from the log (state, exports) reads it. A run with no end event
-- and no live lease is `crashed`; a second writer on a run with a live lease is refused.
CREATE TABLE writer_leases (
  run_id    INTEGER PRIMARY KEY REFERENCES runs(id),
  pid       INTEGER NOT NULL,
  hostname  TEXT NOT NULL,
  started   REAL NOT NULL,
  heartbeat REAL NOT NULL
);

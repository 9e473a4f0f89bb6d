-- trainledger log, schema 1.
-- Everything except the `meta` key/value row set at creation is append-only, and the database
-- itself enforces it: UPDATE and DELETE raise.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE runs (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at REAL NOT NULL
);

-- Metric names are interned per run: batches refer to them by id.
CREATE TABLE metric_names (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  id     INTEGER NOT NULL,
  name   TEXT NOT NULL,
  PRIMARY KEY (run_id, id)
) WITHOUT ROWID;

-- One row per commit unit: the events of one step (or the events after the last step).
-- `body` is the binary batch format of src/log/batch-codec.ts.
CREATE TABLE batches (
  run_id    INTEGER NOT NULL REFERENCES runs(id),
  seq       INTEGER NOT NULL,
  step_iter INTEGER,
  body      BLOB NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

-- Resume points, so a reader can compute the live timeline without scanning every batch.
CREATE TABLE rewinds (
  run_id  INTEGER NOT NULL REFERENCES runs(id),
  seq     INTEGER NOT NULL,
  to_iter INTEGER NOT NULL,
  to_seq  INTEGER NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

CREATE TRIGGER meta_append_only_u BEFORE UPDATE ON meta BEGIN SELECT RAISE(ABORT, 'trainledger log is append-only: UPDATE on meta'); END;
CREATE TRIGGER meta_append_only_d BEFORE DELETE ON meta BEGIN SELECT RAISE(ABORT, 'trainledger log is append-only: DELETE on meta'); END;
CREATE TRIGGER runs_append_only_u BEFORE UPDATE ON runs BEGIN SELECT RAISE(ABORT, 'trainledger log is append-only: UPDATE on runs'); END;
CREATE TRIGGER runs_append_only_d BEFORE DELETE ON runs BEGIN SELECT RAISE(ABORT, 'trainledger log is append-only: DELETE on runs'); END;
CREATE TRIGGER names_append_only_u BEFORE UPDATE ON metric_names BEGIN SELECT RAISE(ABORT, 'trainledger log is append-only: UPDATE on metric_names'); END;
CREATE TRIGGER names_append_only_d BEFORE DELETE ON metric_names BEGIN SELECT RAISE(ABORT, 'trainledger log is append-only: DELETE on metric_names'); END;
CREATE TRIGGER batches_append_only_u BEFORE UPDATE ON batches BEGIN SELECT RAISE(ABORT, 'trainledger log is append-only: UPDATE on batches'); END;
CREATE TRIGGER batches_append_only_d BEFORE DELETE ON batches BEGIN SELECT RAISE(ABORT, 'trainledger log is append-only: DELETE on batches'); END;
CREATE TRIGGER rewinds_append_only_u BEFORE UPDATE ON rewinds BEGIN SELECT RAISE(ABORT, 'trainledger log is append-only: UPDATE on rewinds'); END;
CREATE TRIGGER rewinds_append_only_d BEFORE DELETE ON rewinds BEGIN SELECT RAISE(ABORT, 'trainledger log is append-only: DELETE on rewinds'); END;

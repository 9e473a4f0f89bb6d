-- trainledger log, schema 4: each run's last committed seq, kept apart from the batches.
-- Damage to an interior page of the batches b-tree can cut a run's tail consistently (the range
-- scan and max(seq) alike), which no row checksum sees: readers check the scan reaches this.
-- Like writer_leases it is updated (once per commit, in the commit's transaction); it is not
-- history, and `crc` (CRC-32C of run and seq, src/log/row-checksum.ts) guards the row itself.
CREATE TABLE run_extents (
  run_id   INTEGER PRIMARY KEY REFERENCES runs(id),
  last_seq INTEGER NOT NULL,
  crc      INTEGER NOT NULL
);

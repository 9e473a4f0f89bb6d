-- trainledger log, schema 5: compact batch records (src/log/batch-codec.ts, tags 6-10: varint
-- name ids and iteration differences, float32 values where exact). The tables are unchanged;
-- the version exists so that an older build, which cannot decode these records, refuses the
-- log with "upgrade trainledger" instead of calling it corrupt. Batches written before stay
-- in the old records (tags 1, 2, 4), which every build reads.
SELECT 1;

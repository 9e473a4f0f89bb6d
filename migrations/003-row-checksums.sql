-- trainledger log, schema 3: a CRC-32C on every appended row (src/log/row-checksum.ts says what
-- each covers). SQLite does not checksum its pages, so a flipped bit in a value would otherwise
-- be read back as a different number. Rows written before this schema have NULL: they are read
-- as before, unverified.
ALTER TABLE runs ADD COLUMN crc INTEGER;
ALTER TABLE metric_names ADD COLUMN crc INTEGER;
ALTER TABLE batches ADD COLUMN crc INTEGER;
ALTER TABLE rewinds ADD COLUMN crc INTEGER;

-- Leases on CRL shards: while a replica holds a shard's lease, it alone
-- regenerates that shard. A lease runs out at "until" (microseconds since
-- the Unix epoch) unless its holder renews it, so a holder that dies leaves
-- the shard to the others.

-- +goose Up
CREATE TABLE crl_leases (
    shard  INTEGER NOT NULL PRIMARY KEY CHECK (shard >= 0),
    holder TEXT    NOT NULL CHECK (holder <> ''),
    until  INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE crl_leases;

-- Leases on CRL shards: while a replica holds a shard's lease, it alone
-- regenerates that shard. A lease runs out at "until" (microseconds since
-- the Unix epoch) unless its holder renews it, so a holder that dies leaves
-- the shard to the others.

-- +goose Up
CREATE TABLE crl_leases (
    shard  integer NOT NULL PRIMARY KEY CHECK (shard >= 0),
    holder text    NOT NULL CHECK (holder <> ''),
    until  bigint  NOT NULL
);

-- +goose Down
DROP TABLE crl_leases;

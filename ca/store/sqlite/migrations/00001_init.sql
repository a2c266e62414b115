-- The CA's tables, STRICT so a value of the wrong type is refused rather
-- than kept. Times are integer microseconds since the Unix epoch, NULL
-- where a time is absent, so they round-trip exactly.

-- +goose Up
CREATE TABLE certificates (
    serial            TEXT    NOT NULL PRIMARY KEY,
    der               BLOB    NOT NULL,
    profile           TEXT    NOT NULL,
    subject           TEXT    NOT NULL,
    subscriber_id     TEXT    NOT NULL DEFAULT '',
    shard             INTEGER NOT NULL CHECK (shard >= 0),
    not_before        INTEGER NOT NULL,
    not_after         INTEGER NOT NULL,
    issued_at         INTEGER NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('valid', 'revoked', 'on-hold')),
    revoked_at        INTEGER,
    reason            INTEGER NOT NULL DEFAULT 0,
    status_changed_at INTEGER NOT NULL,
    CHECK ((status = 'valid') = (revoked_at IS NULL))
) STRICT;
-- CRL building: one shard's revoked and on-hold certificates.
CREATE INDEX certificates_shard_status ON certificates (shard, status, not_after);
-- Listings, newest first, optionally by status or subscriber.
CREATE INDEX certificates_issued ON certificates (issued_at);
CREATE INDEX certificates_status_issued ON certificates (status, issued_at);
CREATE INDEX certificates_subscriber_issued ON certificates (subscriber_id, issued_at);
-- Cache refresh in other processes.
CREATE INDEX certificates_status_changed ON certificates (status_changed_at);

-- Every published CRL; numbers grow per shard.
CREATE TABLE crl (
    shard       INTEGER NOT NULL CHECK (shard >= 0),
    number      INTEGER NOT NULL CHECK (number >= 0),
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    der         BLOB    NOT NULL,
    PRIMARY KEY (shard, number)
) STRICT;

CREATE TABLE api_keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    hash       BLOB    NOT NULL,
    scopes     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE TABLE audit_log (
    seq       INTEGER NOT NULL PRIMARY KEY CHECK (seq >= 1),
    time_us   INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    object    TEXT    NOT NULL,
    details   TEXT    NOT NULL,
    prev_hash BLOB    NOT NULL,
    hash      BLOB    NOT NULL
) STRICT;

-- The newest audit entry, one row. Every write transaction reads it first,
-- so appends are serialized and the chain never forks.
CREATE TABLE audit_head (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB    NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE api_keys;
DROP TABLE crl;
DROP TABLE certificates;

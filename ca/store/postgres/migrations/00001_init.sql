-- The CA's tables. Times are bigint microseconds since the Unix epoch, NULL
-- where a time is absent, so they round-trip exactly. Audit details are text,
-- not jsonb: the hash covers the exact bytes.

-- +goose Up
CREATE TABLE certificates (
    serial            text    NOT NULL PRIMARY KEY,
    der               bytea   NOT NULL,
    profile           text    NOT NULL,
    subject           text    NOT NULL,
    subscriber_id     text    NOT NULL DEFAULT '',
    shard             integer NOT NULL CHECK (shard >= 0),
    not_before        bigint  NOT NULL,
    not_after         bigint  NOT NULL,
    issued_at         bigint  NOT NULL,
    status            text    NOT NULL CHECK (status IN ('valid', 'revoked', 'on-hold')),
    revoked_at        bigint,
    reason            integer NOT NULL DEFAULT 0,
    status_changed_at bigint  NOT NULL,
    CHECK ((status = 'valid') = (revoked_at IS NULL))
);
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
    shard       integer NOT NULL CHECK (shard >= 0),
    number      bigint  NOT NULL CHECK (number >= 0),
    this_update bigint  NOT NULL,
    next_update bigint  NOT NULL,
    der         bytea   NOT NULL,
    PRIMARY KEY (shard, number)
);

CREATE TABLE api_keys (
    id         text   NOT NULL PRIMARY KEY,
    name       text   NOT NULL,
    hash       bytea  NOT NULL,
    scopes     text   NOT NULL,
    created_at bigint NOT NULL,
    revoked_at bigint
);

CREATE TABLE audit_log (
    seq       bigint NOT NULL PRIMARY KEY CHECK (seq >= 1),
    time_us   bigint NOT NULL,
    kind      text   NOT NULL,
    actor     text   NOT NULL,
    object    text   NOT NULL,
    details   text   NOT NULL,
    prev_hash bytea  NOT NULL,
    hash      bytea  NOT NULL
);

-- The newest audit entry, one row. Every write transaction locks it first
-- (SELECT ... FOR UPDATE), so appends from every replica are serialized and
-- the chain never forks.
CREATE TABLE audit_head (
    id   integer NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  bigint  NOT NULL,
    hash bytea   NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE api_keys;
DROP TABLE crl;
DROP TABLE certificates;

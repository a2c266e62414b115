-- The registration authority's tables. Times as in 00001: integer
-- microseconds since the Unix epoch, NULL where absent.

-- +goose Up
CREATE TABLE subscribers (
    id             TEXT    NOT NULL PRIMARY KEY,
    identity_key   TEXT    NOT NULL UNIQUE,
    created_at     INTEGER NOT NULL,
    deactivated_at INTEGER
) STRICT;

CREATE TABLE applications (
    id                 TEXT    NOT NULL PRIMARY KEY,
    subscriber_id      TEXT    NOT NULL REFERENCES subscribers (id),
    profile            TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('pending', 'confirmed', 'enrolled', 'expired', 'cancelled')),
    applicant          BLOB,
    created_by         TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    confirmed_at       INTEGER,
    proof_method       TEXT    NOT NULL DEFAULT '',
    proof              BLOB,
    token_hash         BLOB    UNIQUE,
    token_expires_at   INTEGER,
    token_used_at      INTEGER,
    certificate_serial TEXT    NOT NULL DEFAULT '',
    purged_at          INTEGER
) STRICT;
CREATE INDEX applications_status_expires ON applications (status, expires_at);
CREATE INDEX applications_subscriber ON applications (subscriber_id, created_at);
CREATE INDEX applications_created ON applications (created_at);

CREATE TABLE webhooks (
    id              TEXT    NOT NULL PRIMARY KEY,
    url             TEXT    NOT NULL,
    events          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    cursor          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    lease_until     INTEGER NOT NULL DEFAULT 0
) STRICT;

ALTER TABLE certificates ADD COLUMN expiry_announced_at INTEGER;
CREATE INDEX certificates_expiry ON certificates (status, not_after);

-- +goose Down
DROP INDEX certificates_expiry;
ALTER TABLE certificates DROP COLUMN expiry_announced_at;
DROP TABLE webhooks;
DROP TABLE applications;
DROP TABLE subscribers;

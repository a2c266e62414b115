-- The registration authority's tables. Times as in 00001: bigint
-- microseconds since the Unix epoch, NULL where absent.

-- +goose Up
CREATE TABLE subscribers (
    id             text   NOT NULL PRIMARY KEY,
    identity_key   text   NOT NULL UNIQUE,
    created_at     bigint NOT NULL,
    deactivated_at bigint
);

CREATE TABLE applications (
    id                 text   NOT NULL PRIMARY KEY,
    subscriber_id      text   NOT NULL REFERENCES subscribers (id),
    profile            text   NOT NULL,
    status             text   NOT NULL CHECK (status IN ('pending', 'confirmed', 'enrolled', 'expired', 'cancelled')),
    applicant          bytea,
    created_by         text   NOT NULL,
    created_at         bigint NOT NULL,
    expires_at         bigint NOT NULL,
    confirmed_at       bigint,
    proof_method       text   NOT NULL DEFAULT '',
    proof              bytea,
    token_hash         bytea  UNIQUE,
    token_expires_at   bigint,
    token_used_at      bigint,
    certificate_serial text   NOT NULL DEFAULT '',
    purged_at          bigint
);
CREATE INDEX applications_status_expires ON applications (status, expires_at);
CREATE INDEX applications_subscriber ON applications (subscriber_id, created_at);
CREATE INDEX applications_created ON applications (created_at);

CREATE TABLE webhooks (
    id              text    NOT NULL PRIMARY KEY,
    url             text    NOT NULL,
    events          text    NOT NULL,
    created_at      bigint  NOT NULL,
    cursor          bigint  NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at bigint  NOT NULL DEFAULT 0,
    last_error      text    NOT NULL DEFAULT '',
    lease_until     bigint  NOT NULL DEFAULT 0
);

ALTER TABLE certificates ADD COLUMN expiry_announced_at bigint;
CREATE INDEX certificates_expiry ON certificates (status, not_after);

-- +goose Down
DROP INDEX certificates_expiry;
ALTER TABLE certificates DROP COLUMN expiry_announced_at;
DROP TABLE webhooks;
DROP TABLE applications;
DROP TABLE subscribers;

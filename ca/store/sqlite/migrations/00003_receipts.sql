-- Sealed receipts of the portal intake (urzędowe poświadczenia odbioru).

-- +goose Up
CREATE TABLE receipts (
    number          TEXT    NOT NULL PRIMARY KEY,
    created_at      INTEGER NOT NULL,
    document_sha256 TEXT    NOT NULL,
    indication      TEXT    NOT NULL,
    created_by      TEXT    NOT NULL,
    xml             BLOB    NOT NULL
) STRICT;
CREATE INDEX receipts_document ON receipts (document_sha256);

-- +goose Down
DROP TABLE receipts;

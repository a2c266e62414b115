-- Sealed receipts of the portal intake (urzędowe poświadczenia odbioru).

-- +goose Up
CREATE TABLE receipts (
    number          text   NOT NULL PRIMARY KEY,
    created_at      bigint NOT NULL,
    document_sha256 text   NOT NULL,
    indication      text   NOT NULL,
    created_by      text   NOT NULL,
    xml             bytea  NOT NULL
);
CREATE INDEX receipts_document ON receipts (document_sha256);

-- +goose Down
DROP TABLE receipts;

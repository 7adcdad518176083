-- LAB STAND-IN schema: internal secrets (e.g. the JWT signing secret),
-- AES-256-GCM ciphertext under the TPM-sealed `master` key.
CREATE TABLE IF NOT EXISTS internal_secrets
(
    key        VARCHAR(64) PRIMARY KEY,
    value      BYTEA NOT NULL,
    iv         BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- LAB STAND-IN schema: the file index. encryption_iv is the AES-256-GCM nonce
-- of the stored body (local vaults always; S3 vaults only with upstream
-- encryption), so bodies cannot be decrypted without this metadata.
CREATE TABLE IF NOT EXISTS files
(
    id                         BIGSERIAL PRIMARY KEY,
    vault_id                   INTEGER NOT NULL REFERENCES vault (id) ON DELETE CASCADE,
    path                       TEXT NOT NULL,
    size_bytes                 BIGINT NOT NULL,
    mime_type                  TEXT,
    encryption_iv              BYTEA,
    encrypted_with_key_version INTEGER,
    s3_version_id              TEXT,
    created_by                 INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (vault_id, path)
);

-- LAB STAND-IN schema: vaults, their keys (AES-256-GCM ciphertext under the
-- TPM-sealed `vault_master` key), S3 API keys (secret under `master`) and the
-- S3 settings of S3 vaults (bucket, upstream encryption).
CREATE TABLE IF NOT EXISTS api_keys
(
    id                          SERIAL PRIMARY KEY,
    user_id                     INTEGER REFERENCES users (id) ON DELETE CASCADE,
    name                        VARCHAR(100) UNIQUE NOT NULL,
    provider                    VARCHAR(50) NOT NULL,
    access_key                  TEXT NOT NULL,
    encrypted_secret_access_key BYTEA NOT NULL,
    iv                          BYTEA NOT NULL,
    region                      VARCHAR(32) NOT NULL,
    endpoint                    TEXT,
    created_at                  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS vault
(
    id             SERIAL PRIMARY KEY,
    type           VARCHAR(12) NOT NULL CHECK (type IN ('local', 's3')),
    name           VARCHAR(100) UNIQUE NOT NULL,
    description    TEXT,
    quota          BIGINT NOT NULL DEFAULT 0,
    owner_id       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    mount_point    CHAR(32) UNIQUE NOT NULL,
    allow_fs_write BOOLEAN NOT NULL DEFAULT FALSE,
    is_active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS vault_keys
(
    vault_id      INTEGER PRIMARY KEY REFERENCES vault (id) ON DELETE CASCADE,
    encrypted_key BYTEA NOT NULL,
    iv            BYTEA NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS s3
(
    vault_id         INTEGER PRIMARY KEY REFERENCES vault (id) ON DELETE CASCADE,
    api_key_id       INTEGER NOT NULL REFERENCES api_keys (id),
    bucket           TEXT NOT NULL,
    encrypt_upstream BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (api_key_id, bucket)
);

DO $$ BEGIN
    CREATE TRIGGER vault_updated_at BEFORE UPDATE ON vault FOR EACH ROW EXECUTE FUNCTION set_updated_at();
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
DO $$ BEGIN
    CREATE TRIGGER vault_keys_updated_at BEFORE UPDATE ON vault_keys FOR EACH ROW EXECUTE FUNCTION set_updated_at();
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

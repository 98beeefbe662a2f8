-- clio-twisted SQLite schema (one file, WAL). Every statement is idempotent:
-- the backend runs this script at start unless read-only.
--
-- Blobs are XRPL binary; keys, hashes and account ids raw bytes. Tables whose
-- primary key is their only access path are WITHOUT ROWID, so the primary key
-- index *is* the table (no second copy of the key).

-- The committed range: one row. Advancing max_sequence is the commit point.
CREATE TABLE IF NOT EXISTS ledger_range (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    min_sequence INTEGER NOT NULL,
    max_sequence INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS ledgers (
    sequence INTEGER PRIMARY KEY,
    hash BLOB NOT NULL,
    header BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS ledgers_by_hash ON ledgers (hash);

-- Every version of every state object; a deletion is a version with an empty blob.
-- Ordered by (key, sequence): "object K as of N" is one index seek, and the next
-- live key after K is a forward scan of the same index (no successor table needed).
CREATE TABLE IF NOT EXISTS objects (
    key BLOB NOT NULL,
    sequence INTEGER NOT NULL,
    blob BLOB NOT NULL,
    PRIMARY KEY (key, sequence)
) WITHOUT ROWID;

-- Keys changed in each ledger after the first (the ledger's diff).
CREATE TABLE IF NOT EXISTS diffs (
    sequence INTEGER NOT NULL,
    key BLOB NOT NULL,
    PRIMARY KEY (sequence, key)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS transactions (
    hash BLOB PRIMARY KEY,
    ledger_sequence INTEGER NOT NULL,
    transaction_index INTEGER NOT NULL,
    date INTEGER NOT NULL,
    tx BLOB NOT NULL,
    meta BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_by_ledger
    ON transactions (ledger_sequence, transaction_index);

CREATE TABLE IF NOT EXISTS account_transactions (
    account BLOB NOT NULL,
    ledger_sequence INTEGER NOT NULL,
    transaction_index INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (account, ledger_sequence, transaction_index)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS nft_states (
    token_id BLOB NOT NULL,
    sequence INTEGER NOT NULL,
    owner BLOB NOT NULL,
    is_burned INTEGER NOT NULL,
    PRIMARY KEY (token_id, sequence)
) WITHOUT ROWID;

-- URIs are written when set (at mint), so a state change does not copy them.
CREATE TABLE IF NOT EXISTS nft_uris (
    token_id BLOB NOT NULL,
    sequence INTEGER NOT NULL,
    uri BLOB NOT NULL,
    PRIMARY KEY (token_id, sequence)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS nft_transactions (
    token_id BLOB NOT NULL,
    ledger_sequence INTEGER NOT NULL,
    transaction_index INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (token_id, ledger_sequence, transaction_index)
) WITHOUT ROWID;

-- taxon in clear (the id holds it scrambled), for Clio's (taxon, token id) order.
CREATE TABLE IF NOT EXISTS issuer_nfts (
    issuer BLOB NOT NULL,
    taxon INTEGER NOT NULL,
    token_id BLOB NOT NULL,
    PRIMARY KEY (issuer, taxon, token_id)
) WITHOUT ROWID;

-- Who ever held an issuance; liveness as of a ledger comes from the objects table.
CREATE TABLE IF NOT EXISTS mpt_holders (
    issuance_id BLOB NOT NULL,
    holder BLOB NOT NULL,
    mptoken_key BLOB NOT NULL,
    sequence INTEGER NOT NULL,
    PRIMARY KEY (issuance_id, holder)
) WITHOUT ROWID;

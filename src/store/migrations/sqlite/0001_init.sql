-- Schema version 1: subscriptions, deliveries, notices.
-- Only ids, times, zones and settings: never message content.

CREATE TABLE subscriptions (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('user', 'channel')),
    user_id         INTEGER,
    guild_id        INTEGER,
    channel_id      INTEGER,
    role_id         INTEGER,
    local_time      TEXT    NOT NULL,            -- HH:MM
    zone            TEXT    NOT NULL,            -- IANA name
    silent          INTEGER NOT NULL DEFAULT 0,
    pause_reason    TEXT CHECK (pause_reason IN ('dm_refused', 'channel_gone', 'missing_permission')),
    next_fire       INTEGER NOT NULL,            -- unix seconds of the pending occurrence
    next_local_date TEXT    NOT NULL,            -- YYYY-MM-DD of the pending occurrence
    snoozed_until   INTEGER,                     -- unix seconds of a one-off extra reminder
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- When the scheduler must look at the row; NULL while paused.
    due_at          INTEGER GENERATED ALWAYS AS (
        CASE WHEN pause_reason IS NULL THEN min(next_fire, coalesce(snoozed_until, next_fire)) END
    ) VIRTUAL,
    CHECK ((kind = 'user' AND user_id IS NOT NULL AND channel_id IS NULL AND guild_id IS NULL AND role_id IS NULL)
        OR (kind = 'channel' AND user_id IS NULL AND channel_id IS NOT NULL AND guild_id IS NOT NULL))
);

CREATE UNIQUE INDEX subscriptions_user ON subscriptions (user_id) WHERE kind = 'user';
CREATE UNIQUE INDEX subscriptions_channel ON subscriptions (channel_id) WHERE kind = 'channel';
-- The scheduler's only read path: the earliest due rows, never a scan.
CREATE INDEX subscriptions_due ON subscriptions (due_at) WHERE due_at IS NOT NULL;

CREATE TABLE deliveries (
    subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    local_date      TEXT    NOT NULL,            -- YYYY-MM-DD the occurrence belongs to
    state           TEXT    NOT NULL CHECK (state IN
                        ('claimed', 'resending', 'sent', 'skipped', 'failed', 'undeliverable', 'unknown')),
    fire_at         INTEGER NOT NULL,
    nonce           TEXT,
    late            INTEGER NOT NULL DEFAULT 0,
    claimed_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subscription_id, local_date)
) WITHOUT ROWID;

CREATE INDEX deliveries_unfinished ON deliveries (state) WHERE state IN ('claimed', 'resending');
CREATE INDEX deliveries_claimed_at ON deliveries (claimed_at);

CREATE TABLE notices (
    user_id    INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('dm_refused')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
) WITHOUT ROWID;

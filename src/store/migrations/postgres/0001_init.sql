-- Schema version 1 on PostgreSQL: the reminders' tables, as SQLite's version 3, in PostgreSQL's types.
-- Only ids, times, zones and settings: never message content. Times are unix seconds, dates
-- YYYY-MM-DD and local times HH:MM, exactly as on SQLite, so both stores decode the same way.

CREATE TABLE subscriptions (
    id              BIGSERIAL PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('user', 'channel')),
    user_id         BIGINT,
    guild_id        BIGINT,
    channel_id      BIGINT,
    role_id         BIGINT,
    local_time      TEXT    NOT NULL,
    zone            TEXT    NOT NULL,
    silent          BOOLEAN NOT NULL DEFAULT false,
    pause_reason    TEXT CHECK (pause_reason IN ('dm_refused', 'channel_gone', 'missing_permission', 'unreadable')),
    next_fire       BIGINT  NOT NULL,
    next_local_date TEXT    NOT NULL,
    snoozed_until   BIGINT,
    set_by          BIGINT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    -- When a scheduler must look at the row; NULL while paused.
    due_at          BIGINT GENERATED ALWAYS AS (
        CASE WHEN pause_reason IS NULL THEN LEAST(next_fire, COALESCE(snoozed_until, next_fire)) END
    ) STORED,
    CHECK ((kind = 'user' AND user_id IS NOT NULL AND channel_id IS NULL AND guild_id IS NULL AND role_id IS NULL)
        OR (kind = 'channel' AND user_id IS NULL AND channel_id IS NOT NULL AND guild_id IS NOT NULL))
);

CREATE UNIQUE INDEX subscriptions_user ON subscriptions (user_id) WHERE kind = 'user';
CREATE UNIQUE INDEX subscriptions_channel ON subscriptions (channel_id) WHERE kind = 'channel';
-- The schedulers' read path: the earliest due rows, never a scan.
CREATE INDEX subscriptions_due ON subscriptions (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX subscriptions_set_by ON subscriptions (set_by) WHERE kind = 'channel';

CREATE TABLE deliveries (
    id              BIGSERIAL PRIMARY KEY,
    subscription_id BIGINT REFERENCES subscriptions (id) ON DELETE SET NULL,
    target_kind     TEXT    NOT NULL CHECK (target_kind IN ('user', 'channel')),
    target_id       BIGINT  NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('daily', 'snooze')),
    local_date      TEXT    NOT NULL,
    fire_at         BIGINT  NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN
                        ('claimed', 'sent', 'skipped', 'failed', 'undeliverable', 'unknown')),
    nonce           TEXT,
    late            BOOLEAN NOT NULL DEFAULT false,
    claimed_at      BIGINT  NOT NULL,
    sent_at         BIGINT,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    reason          TEXT CHECK (reason IN
                        ('grace_passed', 'retries_exhausted', 'nonce_window_passed', 'subscription_gone', 'refused')),
    lease_holder    TEXT,
    lease_until     BIGINT
);

-- The exactly-once guards.
CREATE UNIQUE INDEX deliveries_daily ON deliveries (target_kind, target_id, local_date) WHERE kind = 'daily';
CREATE UNIQUE INDEX deliveries_snooze ON deliveries (target_kind, target_id, fire_at) WHERE kind = 'snooze';
-- Claims whose lease may run out: the takeover's read path.
CREATE INDEX deliveries_claimed ON deliveries (lease_until) WHERE state = 'claimed';
CREATE INDEX deliveries_claimed_at ON deliveries (claimed_at);
CREATE INDEX deliveries_subscription ON deliveries (subscription_id);

CREATE TABLE notices (
    user_id    BIGINT NOT NULL,
    kind       TEXT   NOT NULL CHECK (kind IN ('dm_refused')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

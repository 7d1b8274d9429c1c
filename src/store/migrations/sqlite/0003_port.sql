-- Schema version 3: delivery records keyed by target (so `off` then `set` the same day cannot
-- send that day twice), snoozes recorded too, claims with a lease and a give-up reason;
-- subscriptions record who set them (so `/forget` covers channel reminders) and can be paused as
-- unreadable. SQLite cannot change a CHECK in place, so both tables are rebuilt.

CREATE TABLE subscriptions_new (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('user', 'channel')),
    user_id         INTEGER,
    guild_id        INTEGER,
    channel_id      INTEGER,
    role_id         INTEGER,
    local_time      TEXT    NOT NULL,            -- HH:MM
    zone            TEXT    NOT NULL,            -- IANA name
    silent          INTEGER NOT NULL DEFAULT 0,
    pause_reason    TEXT CHECK (pause_reason IN ('dm_refused', 'channel_gone', 'missing_permission', 'unreadable')),
    next_fire       INTEGER NOT NULL,            -- unix seconds of the pending occurrence
    next_local_date TEXT    NOT NULL,            -- YYYY-MM-DD of the pending occurrence
    snoozed_until   INTEGER,                     -- unix seconds of a one-off extra reminder
    set_by          INTEGER,                     -- the user who set it up
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- When the scheduler must look at the row; NULL while paused.
    due_at          INTEGER GENERATED ALWAYS AS (
        CASE WHEN pause_reason IS NULL THEN min(next_fire, coalesce(snoozed_until, next_fire)) END
    ) VIRTUAL,
    CHECK ((kind = 'user' AND user_id IS NOT NULL AND channel_id IS NULL AND guild_id IS NULL AND role_id IS NULL)
        OR (kind = 'channel' AND user_id IS NULL AND channel_id IS NOT NULL AND guild_id IS NOT NULL))
);

INSERT INTO subscriptions_new (id, kind, user_id, guild_id, channel_id, role_id, local_time, zone, silent,
                               pause_reason, next_fire, next_local_date, snoozed_until, set_by, created_at, updated_at)
SELECT id, kind, user_id, guild_id, channel_id, role_id, local_time, zone, silent,
       pause_reason, next_fire, next_local_date, snoozed_until, user_id, created_at, updated_at
FROM subscriptions;

CREATE TABLE deliveries_new (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER REFERENCES subscriptions_new (id) ON DELETE SET NULL,
    target_kind     TEXT    NOT NULL CHECK (target_kind IN ('user', 'channel')),
    target_id       INTEGER NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('daily', 'snooze')),
    local_date      TEXT    NOT NULL,            -- YYYY-MM-DD the occurrence belongs to
    fire_at         INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN
                        ('claimed', 'sent', 'skipped', 'failed', 'undeliverable', 'unknown')),
    nonce           TEXT,
    late            INTEGER NOT NULL DEFAULT 0,
    claimed_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    reason          TEXT CHECK (reason IN
                        ('grace_passed', 'retries_exhausted', 'nonce_window_passed', 'subscription_gone', 'refused')),
    lease_holder    TEXT,
    lease_until     INTEGER
);

INSERT INTO deliveries_new (subscription_id, target_kind, target_id, kind, local_date, fire_at, state, nonce, late,
                            claimed_at, sent_at, attempts, lease_until)
SELECT d.subscription_id, s.kind, CASE s.kind WHEN 'user' THEN s.user_id ELSE s.channel_id END, 'daily',
       d.local_date, d.fire_at, CASE d.state WHEN 'resending' THEN 'claimed' ELSE d.state END, d.nonce, d.late,
       d.claimed_at, d.sent_at, d.attempts, CASE WHEN d.state IN ('claimed', 'resending') THEN 0 END
FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id;

DROP TABLE deliveries;
DROP TABLE subscriptions;
ALTER TABLE subscriptions_new RENAME TO subscriptions;
ALTER TABLE deliveries_new RENAME TO deliveries;

CREATE UNIQUE INDEX subscriptions_user ON subscriptions (user_id) WHERE kind = 'user';
CREATE UNIQUE INDEX subscriptions_channel ON subscriptions (channel_id) WHERE kind = 'channel';
-- The scheduler's only read path: the earliest due rows, never a scan.
CREATE INDEX subscriptions_due ON subscriptions (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX subscriptions_set_by ON subscriptions (set_by) WHERE kind = 'channel';

-- The exactly-once guards.
CREATE UNIQUE INDEX deliveries_daily ON deliveries (target_kind, target_id, local_date) WHERE kind = 'daily';
CREATE UNIQUE INDEX deliveries_snooze ON deliveries (target_kind, target_id, fire_at) WHERE kind = 'snooze';
CREATE INDEX deliveries_claimed ON deliveries (lease_until) WHERE state = 'claimed';
CREATE INDEX deliveries_claimed_at ON deliveries (claimed_at);
CREATE INDEX deliveries_subscription ON deliveries (subscription_id);

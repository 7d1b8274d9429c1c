-- Schema version 2 on PostgreSQL: help channels, where the bot answers on-topic messages without
-- a mention (SQLite's versions 2 and 4). Only ids and a time: never message content.

CREATE TABLE help_channels (
    channel_id BIGINT PRIMARY KEY,
    guild_id   BIGINT NOT NULL,
    added_at   BIGINT NOT NULL
);

CREATE INDEX help_channels_guild ON help_channels (guild_id);

-- The version of the whole set: every add and remove that changes it moves this in the same
-- transaction, so each process can tell with one small read whether its copy in memory is
-- current. Its one row is also the lock that serializes adds, so concurrent adds from several
-- processes never take a server past its limit.
CREATE TABLE help_channels_version (
    id      SMALLINT PRIMARY KEY CHECK (id = 1),
    version BIGINT   NOT NULL
);

INSERT INTO help_channels_version (id, version) VALUES (1, 0);

-- Schema version 2: help channels, where the bot answers on-topic messages without a mention.
-- Only ids and a time: never message content.

CREATE TABLE help_channels (
    channel_id INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    added_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX help_channels_guild ON help_channels (guild_id);

-- Schema version 4: a version number for the whole set of help channels. Every add and remove
-- that changes the set moves it, in the same transaction, so a process can tell with one small
-- read whether its copy in memory is current (several processes share one PostgreSQL, which has
-- the same table; on SQLite it costs nothing and keeps the two stores alike).

CREATE TABLE help_channels_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);

INSERT INTO help_channels_version (id, version) VALUES (1, 0);

"""Storage: one interface (IBackend), SQLite and Cassandra implementations."""

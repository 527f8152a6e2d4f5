-- Calls per one-minute window per bucket (an API key's MCP tool calls),
-- shared by every server process on the database.
CREATE TABLE rate_limit_windows (
    bucket TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    calls BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

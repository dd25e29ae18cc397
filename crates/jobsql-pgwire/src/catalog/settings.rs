//! The well-known Postgres settings the server reports: `SHOW name` answers them, and
//! `pg_catalog.pg_settings` lists them.

/// The well-known Postgres settings `SHOW` answers, with their values.
pub const SETTINGS: &[(&str, &str)] = &[
    ("search_path", "\"$user\", public"),
    ("server_version", "16.6"),
    ("server_version_num", "160006"),
    ("server_encoding", "UTF8"),
    ("client_encoding", "UTF8"),
    ("standard_conforming_strings", "on"),
    ("datestyle", "ISO, MDY"),
    ("timezone", "UTC"),
    ("intervalstyle", "postgres"),
    ("integer_datetimes", "on"),
    ("transaction_isolation", "read committed"),
    ("default_transaction_isolation", "read committed"),
    ("transaction_read_only", "off"),
    ("max_identifier_length", "63"),
    ("lc_collate", "C"),
    ("lc_ctype", "C"),
    ("is_superuser", "off"),
];

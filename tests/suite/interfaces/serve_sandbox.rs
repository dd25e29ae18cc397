//! `jobsql serve` clients do not own the host: no file is opened without `--allow-files`, and
//! with it only under the directory (`..` and symlinks resolved); `SET` only of harmless
//! settings.

use std::path::Path;

use jobsql_pgwire::ServeOptions;
use tokio_postgres::Client;

use super::common::emulator;
use super::serve::{connect, default_server, server_with, simple_rows};

const SECRET: &str = "dapi-not-a-real-token-0123456789";

/// The SQLSTATE and message of a failed simple query.
async fn refused(client: &Client, sql: &str) -> (String, String) {
    let err = client
        .simple_query(sql)
        .await
        .err()
        .unwrap_or_else(|| panic!("{sql} ran"));
    let db = err
        .as_db_error()
        .unwrap_or_else(|| panic!("{sql}: not a Postgres error: {err:?}"));
    assert!(!db.message().contains(SECRET), "{sql}: {}", db.message());
    (db.code().code().to_string(), db.message().to_string())
}

/// A directory holding `secret.csv` (a token) and an empty `allowed/`.
fn files() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("secret.csv"),
        format!("name,token\nprod,{SECRET}\n"),
    )
    .expect("writes");
    std::fs::write(
        dir.path().join(".databrickscfg"),
        format!("[DEFAULT]\nhost = https://x\ntoken = {SECRET}\n"),
    )
    .expect("writes");
    std::fs::create_dir(dir.path().join("allowed")).expect("mkdir");
    std::fs::create_dir(dir.path().join("elsewhere")).expect("mkdir");
    dir
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_file_is_opened_without_allow_files() {
    let emu = emulator().await;
    let server = default_server(&emu).await;
    let client = connect(server.local_addr()).await;
    let dir = files();
    let secret = path(&dir.path().join("secret.csv"));
    let config = path(&dir.path().join(".databrickscfg"));
    let out = dir.path().join("out.csv");
    for sql in [
        format!("CREATE EXTERNAL TABLE s STORED AS CSV LOCATION '{secret}'"),
        // With its columns given, the table is created and the file refused when read.
        format!(
            "CREATE EXTERNAL TABLE c (line TEXT) STORED AS CSV LOCATION '{config}' \
             OPTIONS ('format.has_header' 'false'); SELECT * FROM c"
        ),
        "CREATE EXTERNAL TABLE h STORED AS CSV LOCATION '~/.databrickscfg'".to_string(),
        format!("SELECT * FROM '{secret}'"),
        format!("COPY (SELECT 1 AS a) TO '{}'", path(&out)),
        "CREATE EXTERNAL TABLE s3 STORED AS PARQUET LOCATION 's3://bucket/x.parquet'".to_string(),
    ] {
        let (code, message) = refused(&client, &sql).await;
        assert!(
            code == "42501" && message.contains("--allow-files"),
            "{sql}: {code} {message}"
        );
    }
    assert!(!out.exists(), "COPY wrote {}", out.display());
    // The extended protocol is sandboxed the same way.
    let err = client
        .query(&format!("SELECT * FROM '{secret}'"), &[])
        .await
        .expect_err("refused");
    let message = err.as_db_error().map(|e| e.message().to_string());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("--allow-files")),
        "{err:?}"
    );
    // The connection still works, with no request for any of this.
    assert_eq!(
        simple_rows(&client.simple_query("SELECT 1").await.expect("works")),
        [[Some("1".to_string())]]
    );
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_files_opens_only_what_is_under_the_directory() {
    let emu = emulator().await;
    let dir = files();
    let allowed = dir.path().join("allowed");
    std::os::unix::fs::symlink(dir.path().join("secret.csv"), allowed.join("link.csv"))
        .expect("symlink");
    std::os::unix::fs::symlink(dir.path().join("elsewhere"), allowed.join("out")).expect("symlink");
    let mut options = ServeOptions::new("127.0.0.1:0".parse().expect("addr"));
    options.limits.allow_files = Some(allowed.clone());
    let server = server_with(&emu, options).await;
    let client = connect(server.local_addr()).await;

    // Under the directory: COPY writes, SELECT and CREATE EXTERNAL TABLE read back.
    let kept = path(&allowed.join("kept.parquet"));
    client
        .simple_query(&format!("COPY (SELECT 7 AS a, 'x' AS b) TO '{kept}'"))
        .await
        .expect("COPY under the directory");
    let rows = simple_rows(
        &client
            .simple_query(&format!("SELECT a, b FROM '{kept}'"))
            .await
            .expect("reads back"),
    );
    assert_eq!(rows, [[Some("7".to_string()), Some("x".to_string())]]);
    client
        .simple_query(&format!(
            "CREATE EXTERNAL TABLE kept STORED AS PARQUET LOCATION '{}'",
            path(&allowed)
        ))
        .await
        .expect("a table over the directory");
    let rows = simple_rows(
        &client
            .simple_query("SELECT count(*) FROM kept")
            .await
            .expect("reads"),
    );
    assert_eq!(rows, [[Some("1".to_string())]]);

    // Outside it, by path, by `..`, by a symlink to a file or a directory: refused.
    let secret = path(&dir.path().join("secret.csv"));
    let dotdot = format!("{}/../secret.csv", path(&allowed));
    let link = path(&allowed.join("link.csv"));
    let escaped = dir.path().join("elsewhere").join("y.csv");
    let outside = dir.path().join("z.csv");
    for sql in [
        format!("SELECT * FROM '{secret}'"),
        format!("SELECT * FROM '{dotdot}'"),
        format!("SELECT * FROM '{link}'"),
        format!("CREATE EXTERNAL TABLE s STORED AS CSV LOCATION '{secret}'"),
        format!("CREATE EXTERNAL TABLE l STORED AS CSV LOCATION '{link}'"),
        format!(
            "COPY (SELECT 1 AS a) TO '{}'",
            path(&allowed.join("out").join("y.csv"))
        ),
        format!("COPY (SELECT 1 AS a) TO '{}'", path(&outside)),
        "CREATE EXTERNAL TABLE s3 STORED AS PARQUET LOCATION 's3://bucket/x.parquet'".to_string(),
    ] {
        let (code, message) = refused(&client, &sql).await;
        assert!(
            code == "42501" && message.contains("--allow-files"),
            "{sql}: {code} {message}"
        );
    }
    assert!(!escaped.exists() && !outside.exists());
    // A listing of the directory leaves out what its symlinks point to outside.
    let created = client
        .simple_query(&format!(
            "CREATE EXTERNAL TABLE all_csv STORED AS CSV LOCATION '{}/'",
            path(&allowed)
        ))
        .await;
    if created.is_ok() {
        let listed = client.simple_query("SELECT * FROM all_csv").await;
        let text = format!("{listed:?}");
        assert!(!text.contains(SECRET), "{text}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_is_limited_to_harmless_settings() {
    let emu = emulator().await;
    let server = default_server(&emu).await;
    let client = connect(server.local_addr()).await;
    let show = |name: &'static str| {
        let client = &client;
        async move {
            simple_rows(
                &client
                    .simple_query(&format!("SHOW {name}"))
                    .await
                    .expect(name),
            )
            .into_iter()
            .flatten()
            .flatten()
            .collect::<Vec<_>>()
        }
    };
    for sql in [
        "SET datafusion.execution.target_partitions = 200000",
        "SET datafusion.runtime.memory_limit = '1T'",
        "SET datafusion.runtime.temp_directory = '/tmp/x'",
        "SET datafusion.execution.batch_size = 100000000",
        "SELECT 1; SET datafusion.execution.target_partitions = 200000",
        "SELECT 1; RESET datafusion.runtime.memory_limit",
        "CREATE TABLE big AS SELECT * FROM range(10)",
    ] {
        let (code, message) = refused(&client, sql).await;
        assert_eq!(code, "42501", "{sql}: {message}");
        assert!(message.contains("jobsql serve"), "{sql}: {message}");
    }
    // Prepared, too.
    let err = client
        .execute("SET datafusion.execution.target_partitions = 200000", &[])
        .await
        .expect_err("refused");
    assert_eq!(err.as_db_error().map(|e| e.code().code()), Some("42501"));
    assert!(show("datafusion.execution.target_partitions")
        .await
        .contains(&"2".to_string()));
    // Harmless settings work, and what drivers send is still accepted.
    client
        .simple_query("SET datafusion.execution.batch_size = 1024")
        .await
        .expect("allowed");
    assert!(show("datafusion.execution.batch_size")
        .await
        .contains(&"1024".to_string()));
    client
        .simple_query("SET datafusion.execution.time_zone = '+02:00'")
        .await
        .expect("allowed");
    client
        .simple_query("SET application_name = 'psql'")
        .await
        .expect("ignored");
    client
        .simple_query("CREATE VIEW v AS SELECT 1 AS one")
        .await
        .expect("views hold no rows");
    server.shutdown().await;
}

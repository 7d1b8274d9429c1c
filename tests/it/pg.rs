//! PostgreSQL for the tests: a fresh schema per test on the server at `CRAMPBOT_TEST_POSTGRES`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`), dropped afterwards.
//!
//! When the server cannot be reached the PostgreSQL tests are skipped, and the first of them
//! says so in one line; with `CRAMPBOT_REQUIRE_POSTGRES=1` (as `.ci/run` sets) they fail instead.

#![allow(dead_code, clippy::missing_panics_doc)]

use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The server the tests use.
#[allow(clippy::disallowed_methods, reason = "the tests' own settings, read where they are used")]
pub fn server_url() -> String {
    std::env::var("CRAMPBOT_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

#[allow(clippy::disallowed_methods, reason = "the tests' own settings, read where they are used")]
fn required() -> bool {
    std::env::var("CRAMPBOT_REQUIRE_POSTGRES").is_ok_and(|value| value == "1")
}

/// A schema of its own on the test server; dropped (with everything in it) on drop.
pub struct PgSchema {
    /// The connection URL that puts the connection in this schema.
    pub url: String,
    /// The schema's name.
    pub name: String,
}

/// A fresh schema, or `None` (after one line saying so) when the server cannot be reached.
///
/// # Panics
/// The server cannot be reached and `CRAMPBOT_REQUIRE_POSTGRES=1`.
pub async fn schema() -> Option<PgSchema> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static SKIPPED: Once = Once::new();
    let url = server_url();
    let connected =
        tokio::time::timeout(Duration::from_secs(3), tokio_postgres::connect(&url, tokio_postgres::NoTls)).await;
    let (client, connection) = match connected {
        Ok(Ok(pair)) => pair,
        Ok(Err(err)) => return skip(&SKIPPED, &format!("{err}")),
        Err(_) => return skip(&SKIPPED, "timed out"),
    };
    let driver = tokio::spawn(connection);
    let name = format!("crampbot_t{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"))
        .await
        .expect("create schema");
    drop(client);
    let _ = driver.await;
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{separator}options=-c%20search_path%3D{name}");
    Some(PgSchema { url, name })
}

fn skip(once: &Once, why: &str) -> Option<PgSchema> {
    assert!(
        !required(),
        "PostgreSQL is required (CRAMPBOT_REQUIRE_POSTGRES=1) but {} is not reachable: {why}",
        server_url()
    );
    once.call_once(|| {
        // Straight to stderr, past the test harness's capture, so the line shows in a passing run.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "PostgreSQL not reachable at {} ({why}): PostgreSQL tests skipped (CRAMPBOT_REQUIRE_POSTGRES=1 makes this a failure)",
            server_url()
        );
    });
    None
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let url = server_url();
        let name = self.name.clone();
        // Drop may run inside a runtime: drop the schema from a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async {
                if let Ok((client, connection)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
                    let driver = tokio::spawn(connection);
                    let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).await;
                    drop(client);
                    let _ = driver.await;
                }
            });
        })
        .join();
    }
}

//! Cloud storage for the history: `s3://` / `s3a://` (Amazon S3 and compatible stores),
//! `abfss://` / `abfs://` / `az://` (Azure Blob Storage, ADLS Gen2) and `gs://` (Google Cloud
//! Storage), registered with delta-rs' store factories so `deltalake_core::open_table`, the
//! sync's writer and its commits all reach them.
//!
//! Why object_store's own stores (its `aws`, `azure` and `gcp` features) and not delta-rs'
//! `deltalake-aws` / `deltalake-azure` / `deltalake-gcp` crates: those pull the AWS SDK
//! (aws-config, aws-sdk-sts, aws-sdk-dynamodb and their smithy runtime) for a DynamoDB commit
//! lock S3 no longer needs, and add nothing for Azure and GCS but the same object_store
//! builders. object_store 0.13 is already in the tree (DataFusion and deltalake-core use it);
//! its cloud features add only reqwest (already here), quick-xml, md-5 and ring: no C library.
//!
//! - Each store is built with the builder's `from_env()`, so the standard variables apply
//!   (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
//!   `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`; `AZURE_STORAGE_ACCOUNT_NAME`,
//!   `AZURE_STORAGE_ACCOUNT_KEY`, `AZURE_STORAGE_USE_EMULATOR`, ...;
//!   `GOOGLE_SERVICE_ACCOUNT`, `GOOGLE_SERVICE_ACCOUNT_KEY`, ...), then the URL's bucket.
//! - A commit is delta-rs' default log store: `put` with `PutMode::Create` of the next
//!   `_delta_log/NNN.json`, i.e. put-if-absent (S3 `If-None-Match: *`, Azure and GCS
//!   preconditions), never a rename: of two syncs racing for a version one gets "version
//!   already exists" and nothing of it is committed.
//! - The secret variables' values are registered with [`jobsql_core::redact`], so no error, log or
//!   output shows them; they go only to the store's endpoint (signed requests).
//! - A store's error answer (the XML body S3 and Azure send with a 403, say) is cut to its
//!   code and the first line of its message ([`condensed`]): one line a user can read.

use std::sync::{Arc, Once};

use deltalake_core::logstore::object_store::aws::AmazonS3Builder;
use deltalake_core::logstore::object_store::azure::MicrosoftAzureBuilder;
use deltalake_core::logstore::object_store::gcp::GoogleCloudStorageBuilder;
use deltalake_core::logstore::object_store::path::Path;
use deltalake_core::logstore::object_store::ObjectStore;
use deltalake_core::logstore::{
    default_logstore, logstore_factories, object_store_factories, LogStore, LogStoreFactory,
    ObjectStoreFactory, ObjectStoreRef, StorageConfig,
};
use deltalake_core::{DeltaResult, DeltaTableError};
use url::Url;

/// The schemes of cloud storage jobsql reads and writes.
pub const SCHEMES: &[&str] = &["s3", "s3a", "abfss", "abfs", "az", "gs"];

/// The environment variables whose values are secrets.
const SECRETS: &[&str] = &[
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_CLIENT_SECRET",
    "GOOGLE_SERVICE_ACCOUNT_KEY",
];

/// Register the cloud stores with delta-rs (once per process) and the secrets of the
/// environment with [`jobsql_core::redact`].
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for name in SECRETS {
            if let Ok(value) = std::env::var(name) {
                jobsql_core::redact::register(&value);
            }
        }
        let stores = object_store_factories();
        let logs = logstore_factories();
        for scheme in SCHEMES {
            let Ok(url) = Url::parse(&format!("{scheme}://")) else {
                continue;
            };
            stores.insert(url.clone(), Arc::new(CloudStores));
            logs.insert(url, Arc::new(CloudLogs));
        }
    });
}

/// Builds the store of a cloud URL from the environment.
struct CloudStores;

impl ObjectStoreFactory for CloudStores {
    fn parse_url_opts(
        &self,
        url: &Url,
        config: &StorageConfig,
    ) -> DeltaResult<(ObjectStoreRef, Path)> {
        let store = build(url, config)?;
        let path = Path::from_url_path(url.path())
            .map_err(|e| DeltaTableError::Generic(format!("{url}: {e}")))?;
        Ok((store, path))
    }
}

/// The store of `url`'s bucket (container, account), options given to delta-rs applied over
/// the environment's.
fn build(url: &Url, config: &StorageConfig) -> DeltaResult<ObjectStoreRef> {
    let store: Arc<dyn ObjectStore> = match url.scheme() {
        "s3" | "s3a" => {
            let b = AmazonS3Builder::from_env().with_url(url.as_str());
            Arc::new(configured(b, config, |b, k, v| b.with_config(k, v)).build()?)
        }
        "abfss" | "abfs" | "az" => {
            let b = MicrosoftAzureBuilder::from_env().with_url(url.as_str());
            Arc::new(configured(b, config, |b, k, v| b.with_config(k, v)).build()?)
        }
        "gs" => {
            let b = GoogleCloudStorageBuilder::from_env().with_url(url.as_str());
            Arc::new(configured(b, config, |b, k, v| b.with_config(k, v)).build()?)
        }
        _ => return Err(DeltaTableError::InvalidTableLocation(url.to_string())),
    };
    Ok(store)
}

/// `builder` with each option of `config` that names one of its keys `K` (case-insensitive)
/// set by `set`; the others are left to delta-rs.
fn configured<B, K: std::str::FromStr>(
    builder: B,
    config: &StorageConfig,
    set: impl Fn(B, K, &str) -> B,
) -> B {
    config.raw().fold(builder, |b, (k, v)| {
        match k.to_ascii_lowercase().parse::<K>() {
            Ok(key) => set(b, key, v),
            Err(_) => b,
        }
    })
}

/// delta-rs' default log store (commits are put-if-absent) over the cloud stores.
struct CloudLogs;

impl LogStoreFactory for CloudLogs {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

/// The longest message [`condensed`] returns, in bytes: delta-rs quotes values a table holds
/// (a partition value that does not parse, say), which can be megabytes.
pub const MESSAGE_BYTES: usize = 1024;

/// `message` (an error of delta-rs or object_store) with a store's XML error body cut to its
/// `<Code>` and the first line of its `<Message>`; other messages are returned as they are;
/// either cut to about [`MESSAGE_BYTES`]: its start and its end (which says what the value
/// was taken for: `… as 'date'`), at character boundaries, with how much was left out.
pub fn condensed(message: &str) -> String {
    let whole = condensed_whole(message);
    if whole.len() <= MESSAGE_BYTES {
        return whole;
    }
    let mut head = MESSAGE_BYTES * 3 / 4;
    while !whole.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = whole.len() - MESSAGE_BYTES / 4;
    while !whole.is_char_boundary(tail) {
        tail += 1;
    }
    format!(
        "{} … ({} bytes left out) … {}",
        &whole[..head],
        tail - head,
        &whole[tail..]
    )
}

fn condensed_whole(message: &str) -> String {
    let Some(at) = message.find("<?xml").or_else(|| message.find("<Error>")) else {
        return message.to_string();
    };
    let head = message[..at].trim_end().trim_end_matches(':');
    let body = &message[at..];
    let element = |name: &str| -> Option<String> {
        let start = body.find(&format!("<{name}>"))? + name.len() + 2;
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(
            body[start..end]
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string(),
        )
    };
    let parts: Vec<String> = [element("Code"), element("Message")]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        head.to_string()
    } else {
        format!("{head}: {}", parts.join(": "))
    }
}

#[cfg(test)]
mod tests {
    use super::condensed;

    #[test]
    fn a_stores_xml_error_body_is_cut_to_its_code_and_first_message_line() {
        let azure = "Error performing GET http://127.0.0.1:1/a?comp=list - Server returned \
            non-2xx status code: 403 Forbidden: <?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
            <Error>\n  <Code>AuthorizationFailure</Code>\n  <Message>Server failed to \
            authenticate the request.\nRequestId:1\nTime:2026</Message>\n</Error>";
        assert_eq!(
            condensed(azure),
            "Error performing GET http://127.0.0.1:1/a?comp=list - Server returned non-2xx \
             status code: 403 Forbidden: AuthorizationFailure: Server failed to authenticate \
             the request."
        );
        let s3 = "403 Forbidden: <Error><Code>SignatureDoesNotMatch</Code></Error>";
        assert_eq!(condensed(s3), "403 Forbidden: SignatureDoesNotMatch");
        assert_eq!(condensed("no body: <?xml?>"), "no body");
        assert_eq!(condensed("plain\nlines"), "plain\nlines");
        // A value quoted whole (a 10 MB partition value) is cut, at a character boundary.
        let huge = format!(
            "Failed to parse value '{}' as 'date'",
            "é".repeat(1_000_000)
        );
        let cut = condensed(&huge);
        assert!(cut.len() < super::MESSAGE_BYTES + 48, "{} bytes", cut.len());
        assert!(cut.starts_with("Failed to parse value 'éé"), "{cut}");
        assert!(cut.ends_with("éé' as 'date'"), "{cut}");
        assert!(cut.contains(" bytes left out) … "), "{cut}");
    }
}

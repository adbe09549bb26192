//! API keys and roles.
//!
//! Keys live in `<data_dir>/keys.json`, shared by the running server and the
//! `hexaglot keys` commands. The file holds, per key, its id, name, role, creation time and the
//! SHA-256 of its secret; the secret itself is shown once, by [`KeyStore::add`], and never stored.
//!
//! Invariants:
//! - writers take an exclusive lock on `<data_dir>/keys.lock`, read the current file, change it and
//!   replace it atomically (temporary file, fsync, rename, fsync of the directory), so concurrent
//!   `keys add` / `keys revoke` from several processes never lose an update;
//! - readers never lock: they keep the parsed file and re-read it when its size, modification time
//!   or inode changes, or when the copy is older than [`RELOAD_AFTER`], so a server sees keys added
//!   or revoked by another process without a restart;
//! - [`KeyStore::authenticate`] compares the hash of the presented secret with every stored hash in
//!   constant time, and fails closed (no key) when the file cannot be read.
//!
//! ```
//! # use hexaglot::auth::{KeyStore, Role};
//! let dir = tempfile::tempdir().unwrap();
//! let store = KeyStore::open(dir.path()).unwrap();
//! let (info, secret) = store.add("ci", Role::Editor).unwrap();
//! assert_eq!(store.authenticate(&secret).unwrap().id, info.id);
//! assert!(store.authenticate("hxk_wrong").is_none());
//! ```

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rand::TryRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Prefix of every secret, so a key is recognisable in configs and logs and foreign strings are
/// rejected without hashing.
pub const SECRET_PREFIX: &str = "hxk_";

/// How long a parsed copy of the keys file is trusted even when its size and modification time
/// look unchanged (edits within the file system's timestamp granularity are caught this way).
pub const RELOAD_AFTER: Duration = Duration::from_secs(1);

const KEYS_FILE: &str = "keys.json";
const LOCK_FILE: &str = "keys.lock";
const FILE_VERSION: u32 = 1;
const SECRET_BYTES: usize = 32;
const ID_BYTES: usize = 8;

/// What a key may do; each role includes the ones before it (`Reader < Editor < Admin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every GET and the read-only POSTs (`/tm/lookup`, `/check`).
    Reader,
    /// Reader, plus create/replace/delete of single concepts and TM units.
    Editor,
    /// Editor, plus import, export, deleting collections and managing keys.
    Admin,
}

impl Role {
    /// Every role, from the least to the most privileged.
    pub const ALL: [Role; 3] = [Role::Reader, Role::Editor, Role::Admin];

    /// The lowercase name used in the keys file, the CLI and the API (`"editor"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AuthError;

    /// Parses `reader`, `editor` or `admin` (ASCII case-insensitive).
    fn from_str(s: &str) -> Result<Role, AuthError> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| AuthError::UnknownRole(s.to_owned()))
    }
}

/// A key as `keys list` shows it; never carries the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// Short random hex id (16 characters), stable for the key's life.
    pub id: String,
    /// Human name, unique among the stored keys (`"ci"`, `"alice laptop"`).
    pub name: String,
    /// What the key may do.
    pub role: Role,
    /// Creation time, RFC 3339 in UTC to the second (`2026-11-22T10:00:00Z`).
    pub created_at: String,
}

/// Why a key operation failed. Messages name the file they concern.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Reading, writing, locking or syncing a file failed.
    #[error("{}: {op}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What was being done (`"reading keys file"`).
        op: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// The keys file is not valid JSON of the expected shape.
    #[error("{}: corrupt keys file: {source}", path.display())]
    Parse {
        /// The keys file.
        path: PathBuf,
        /// The JSON error, with line and column.
        source: serde_json::Error,
    },
    /// The keys file parsed but its content is unusable (unknown version, malformed hash).
    #[error("{}: corrupt keys file: {reason}", path.display())]
    Invalid {
        /// The keys file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A key name was empty or only whitespace.
    #[error("key name must not be empty")]
    EmptyName,
    /// A key with this name already exists.
    #[error("{}: a key named `{name}` already exists", path.display())]
    DuplicateName {
        /// The keys file.
        path: PathBuf,
        /// The name asked for.
        name: String,
    },
    /// A role name other than `reader`, `editor` or `admin`.
    #[error("unknown role `{0}` (expected reader, editor or admin)")]
    UnknownRole(String),
    /// The operating system's random number generator failed.
    #[error("cannot get random bytes from the operating system: {0}")]
    Random(#[from] rand::rand_core::OsError),
}

/// The API keys of one data directory.
///
/// Cloning is cheap (the state is shared) and the store is `Send + Sync`; several stores, in this
/// process or others, may be opened on the same directory.
#[derive(Clone)]
pub struct KeyStore {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    keys_path: PathBuf,
    lock_path: PathBuf,
    cache: Mutex<Option<Cache>>,
}

/// The parsed keys file as last read, and what the file looked like just before.
struct Cache {
    stamp: Option<Stamp>,
    loaded_at: Instant,
    keys: Arc<Vec<Entry>>,
}

/// Enough of a file's metadata to notice that it was replaced or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Stamp {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        }
    }
}

/// One key as held in memory: its public info and the decoded hash of its secret.
struct Entry {
    info: KeyInfo,
    hash: [u8; 32],
}

/// On-disk shape of `keys.json`.
#[derive(Serialize, Deserialize)]
struct KeysFile {
    version: u32,
    keys: Vec<StoredKey>,
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    #[serde(flatten)]
    info: KeyInfo,
    /// SHA-256 of the whole secret (prefix included), lowercase hex.
    sha256: String,
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStore")
            .field("path", &self.inner.keys_path)
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    /// Opens the keys of `data_dir` (file `<data_dir>/keys.json`).
    ///
    /// Nothing is created until the first [`add`](Self::add); an existing file is read now so a
    /// corrupt one is reported at startup.
    pub fn open(data_dir: &Path) -> Result<KeyStore, AuthError> {
        let store = KeyStore {
            inner: Arc::new(Inner {
                dir: data_dir.to_path_buf(),
                keys_path: data_dir.join(KEYS_FILE),
                lock_path: data_dir.join(LOCK_FILE),
                cache: Mutex::new(None),
            }),
        };
        store.current()?;
        Ok(store)
    }

    /// Path of the keys file.
    pub fn path(&self) -> &Path {
        &self.inner.keys_path
    }

    /// Adds a key and returns its info with its secret, which is not stored and cannot be shown
    /// again.
    ///
    /// The name is trimmed and must be non-empty and not already used by another key.
    pub fn add(&self, name: &str, role: Role) -> Result<(KeyInfo, String), AuthError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AuthError::EmptyName);
        }
        let mut secret_bytes = [0u8; SECRET_BYTES];
        rand::rngs::OsRng.try_fill_bytes(&mut secret_bytes)?;
        let secret = format!("{SECRET_PREFIX}{}", hex::encode(secret_bytes));
        let created_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();

        let info = self.update(|keys| {
            if keys.iter().any(|k| k.info.name == name) {
                return Err(AuthError::DuplicateName {
                    path: self.inner.keys_path.clone(),
                    name: name.to_owned(),
                });
            }
            let id = loop {
                let mut id_bytes = [0u8; ID_BYTES];
                rand::rngs::OsRng.try_fill_bytes(&mut id_bytes)?;
                let id = hex::encode(id_bytes);
                if !keys.iter().any(|k| k.info.id == id) {
                    break id;
                }
            };
            let info = KeyInfo {
                id,
                name: name.to_owned(),
                role,
                created_at,
            };
            keys.push(Entry {
                info: info.clone(),
                hash: sha256(&secret),
            });
            Ok((info, true))
        })?;
        tracing::info!(id = %info.id, name = %info.name, role = %info.role, "api key added");
        Ok((info, secret))
    }

    /// Every key, in the order they were added.
    pub fn list(&self) -> Result<Vec<KeyInfo>, AuthError> {
        Ok(self.current()?.iter().map(|k| k.info.clone()).collect())
    }

    /// Revokes (deletes) the key with this id or, failing that, this name; `None` when there is no
    /// such key.
    pub fn revoke(&self, id_or_name: &str) -> Result<Option<KeyInfo>, AuthError> {
        let wanted = id_or_name.trim();
        let revoked = self.update(|keys| {
            let position = keys
                .iter()
                .position(|k| k.info.id == wanted)
                .or_else(|| keys.iter().position(|k| k.info.name == wanted));
            Ok(match position {
                Some(i) => (Some(keys.remove(i).info), true),
                None => (None, false),
            })
        })?;
        if let Some(info) = &revoked {
            tracing::info!(id = %info.id, name = %info.name, "api key revoked");
        }
        Ok(revoked)
    }

    /// The info of the key whose secret this is, or `None` for an unknown secret.
    ///
    /// Sees keys added or revoked by other processes. When the keys file cannot be read the
    /// error is logged and no key is accepted.
    pub fn authenticate(&self, secret: &str) -> Option<KeyInfo> {
        if !secret.starts_with(SECRET_PREFIX) {
            return None;
        }
        let keys = match self.current() {
            Ok(keys) => keys,
            Err(err) => {
                tracing::error!("rejecting api key: {err}");
                return None;
            }
        };
        let presented = sha256(secret);
        // Look at every key and every byte, whatever matches, so timing says nothing about
        // which stored hash shares a prefix with the presented one.
        let mut found = None;
        for key in keys.iter() {
            if constant_time_eq(&key.hash, &presented) && found.is_none() {
                found = Some(&key.info);
            }
        }
        found.cloned()
    }

    /// The keys as currently on disk, re-reading the file when it changed or the cached copy is
    /// older than [`RELOAD_AFTER`].
    fn current(&self) -> Result<Arc<Vec<Entry>>, AuthError> {
        let mut cache = self.inner.cache.lock().unwrap_or_else(|e| e.into_inner());
        // Stat before reading: if the file is replaced in between, the stamp is older than the
        // content and the next call reads again, never the other way round.
        let stamp = self.stamp()?;
        if let Some(c) = cache.as_ref() {
            if c.stamp == stamp && c.loaded_at.elapsed() < RELOAD_AFTER {
                return Ok(Arc::clone(&c.keys));
            }
        }
        let keys = Arc::new(self.read()?);
        *cache = Some(Cache {
            stamp,
            loaded_at: Instant::now(),
            keys: Arc::clone(&keys),
        });
        Ok(keys)
    }

    fn stamp(&self) -> Result<Option<Stamp>, AuthError> {
        let meta = match fs::metadata(&self.inner.keys_path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io_error(&self.inner.keys_path, "reading metadata", e)),
        };
        Ok(Some(Stamp::of(&meta)))
    }

    /// Reads and checks the keys file; a missing file means no keys.
    fn read(&self) -> Result<Vec<Entry>, AuthError> {
        let path = &self.inner.keys_path;
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io_error(path, "reading keys file", e)),
        };
        let file: KeysFile = serde_json::from_slice(&bytes).map_err(|source| AuthError::Parse {
            path: path.clone(),
            source,
        })?;
        let invalid = |reason: String| AuthError::Invalid {
            path: path.clone(),
            reason,
        };
        if file.version != FILE_VERSION {
            return Err(invalid(format!(
                "unsupported version {} (expected {FILE_VERSION})",
                file.version
            )));
        }
        tracing::debug!(path = %path.display(), keys = file.keys.len(), "keys file read");
        file.keys
            .into_iter()
            .map(|stored| {
                let mut hash = [0u8; 32];
                hex::decode_to_slice(&stored.sha256, &mut hash).map_err(|_| {
                    invalid(format!(
                        "key `{}`: sha256 is not 64 hex characters",
                        stored.info.id
                    ))
                })?;
                Ok(Entry {
                    info: stored.info,
                    hash,
                })
            })
            .collect()
    }

    /// Runs `change` on the keys under the exclusive file lock and, when it reports a change,
    /// replaces the file atomically.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut Vec<Entry>) -> Result<(T, bool), AuthError>,
    ) -> Result<T, AuthError> {
        let inner = &*self.inner;
        fs::create_dir_all(&inner.dir)
            .map_err(|e| self.io_error(&inner.dir, "creating data directory", e))?;
        let lock = private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&inner.lock_path)
            .map_err(|e| self.io_error(&inner.lock_path, "opening lock file", e))?;
        fs4::fs_std::FileExt::lock_exclusive(&lock)
            .map_err(|e| self.io_error(&inner.lock_path, "locking", e))?;

        // Under the lock, start from the file as it is now, not from the cache.
        let mut keys = self.read()?;
        let (out, changed) = change(&mut keys)?;
        if changed {
            self.write(&keys)?;
            // Drop the cached copy so this process sees its own change immediately.
            *inner.cache.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        drop(lock); // closing the file releases the lock
        Ok(out)
    }

    /// Writes `keys` to a temporary file in the data directory, syncs it, renames it over the
    /// keys file and syncs the directory.
    fn write(&self, keys: &[Entry]) -> Result<(), AuthError> {
        let inner = &*self.inner;
        let file = KeysFile {
            version: FILE_VERSION,
            keys: keys
                .iter()
                .map(|k| StoredKey {
                    info: k.info.clone(),
                    sha256: hex::encode(k.hash),
                })
                .collect(),
        };
        let mut json = serde_json::to_vec_pretty(&file).map_err(|e| {
            self.io_error(&inner.keys_path, "encoding keys file", io::Error::other(e))
        })?;
        json.push(b'\n');

        let mut suffix = [0u8; 4];
        rand::rngs::OsRng.try_fill_bytes(&mut suffix)?;
        let tmp_path = inner
            .dir
            .join(format!(".{KEYS_FILE}.{}.tmp", hex::encode(suffix)));
        let written = (|| {
            let mut tmp = private_options()
                .write(true)
                .create_new(true)
                .open(&tmp_path)?;
            tmp.write_all(&json)?;
            tmp.sync_all()
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp_path);
            return Err(self.io_error(&tmp_path, "writing keys file", e));
        }
        if let Err(e) = fs::rename(&tmp_path, &inner.keys_path) {
            let _ = fs::remove_file(&tmp_path);
            return Err(self.io_error(&inner.keys_path, "replacing keys file", e));
        }
        sync_dir(&inner.dir).map_err(|e| self.io_error(&inner.dir, "syncing data directory", e))
    }

    fn io_error(&self, path: &Path, op: &'static str, source: io::Error) -> AuthError {
        AuthError::Io {
            path: path.to_path_buf(),
            op,
            source,
        }
    }
}

/// Open options that create files readable and writable by the owner only (Unix).
fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn sha256(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Equality of two hashes in time independent of where they differ.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, KeyStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn added_secret_is_strong_and_authenticates_with_its_role() {
        let (_dir, store) = store();
        let (info, secret) = store.add("ci", Role::Editor).unwrap();
        let hex_part = secret.strip_prefix(SECRET_PREFIX).unwrap();
        assert_eq!(hex_part.len(), 64, "256 bits of randomness");
        assert!(hex_part.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(info.id.len(), 16);
        assert!(humantime::parse_rfc3339(&info.created_at).is_ok());

        let found = store.authenticate(&secret).unwrap();
        assert_eq!(found, info);
        assert_eq!(found.role, Role::Editor);

        let (_, other) = store.add("laptop", Role::Admin).unwrap();
        assert_ne!(secret, other);
        assert_eq!(store.authenticate(&other).unwrap().role, Role::Admin);
        assert_eq!(store.authenticate(&secret).unwrap().role, Role::Editor);
    }

    #[test]
    fn file_holds_the_hash_never_the_secret() {
        let (dir, store) = store();
        let (_, secret) = store.add("ci", Role::Reader).unwrap();
        let text = fs::read_to_string(dir.path().join(KEYS_FILE)).unwrap();
        assert!(!text.contains(&secret));
        assert!(!text.contains(secret.strip_prefix(SECRET_PREFIX).unwrap()));
        assert!(text.contains(&hex::encode(sha256(&secret))));
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["keys"][0]["name"], "ci");
        assert_eq!(json["keys"][0]["role"], "reader");
    }

    #[cfg(unix)]
    #[test]
    fn keys_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, store) = store();
        store.add("ci", Role::Reader).unwrap();
        let mode = fs::metadata(dir.path().join(KEYS_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn wrong_absent_or_mangled_secrets_are_rejected() {
        let (_dir, store) = store();
        let (_, secret) = store.add("ci", Role::Admin).unwrap();
        let mut flipped = secret.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        let upper = format!("{SECRET_PREFIX}{}", secret[4..].to_uppercase());
        let cases: [(&str, &str); 8] = [
            ("empty", ""),
            ("prefix only", SECRET_PREFIX),
            ("truncated", &secret[..secret.len() - 1]),
            ("half", &secret[..36]),
            ("extended", &format!("{secret}0")),
            ("one digit changed", &flipped),
            ("without prefix", &secret[4..]),
            ("upper case", &upper),
        ];
        for (what, presented) in cases {
            assert_eq!(store.authenticate(presented), None, "{what}: {presented:?}");
        }
        assert!(store.authenticate(&secret).is_some());
    }

    #[test]
    fn revoke_by_id_and_by_name() {
        let (_dir, store) = store();
        let (a, secret_a) = store.add("a", Role::Reader).unwrap();
        let (b, secret_b) = store.add("b", Role::Editor).unwrap();

        assert_eq!(store.revoke(&a.id).unwrap(), Some(a.clone()));
        assert_eq!(store.authenticate(&secret_a), None);
        assert!(store.authenticate(&secret_b).is_some());

        assert_eq!(store.revoke("b").unwrap(), Some(b));
        assert_eq!(store.authenticate(&secret_b), None);

        assert_eq!(store.revoke("b").unwrap(), None);
        assert_eq!(store.revoke(&a.id).unwrap(), None);
        assert!(store.list().unwrap().is_empty());
    }

    #[test]
    fn revoked_name_can_be_reused() {
        let (_dir, store) = store();
        let (_, old) = store.add("ci", Role::Reader).unwrap();
        store.revoke("ci").unwrap();
        let (_, new) = store.add("ci", Role::Admin).unwrap();
        assert_eq!(store.authenticate(&old), None);
        assert_eq!(store.authenticate(&new).unwrap().role, Role::Admin);
    }

    #[test]
    fn another_store_on_the_same_dir_is_seen_without_reopening() {
        let (dir, server) = store();
        assert!(server.list().unwrap().is_empty());

        let cli = KeyStore::open(dir.path()).unwrap();
        let (info, secret) = cli.add("ci", Role::Editor).unwrap();
        assert_eq!(server.authenticate(&secret), Some(info.clone()));
        assert_eq!(server.list().unwrap(), vec![info.clone()]);

        assert_eq!(cli.revoke(&info.id).unwrap(), Some(info));
        assert_eq!(server.authenticate(&secret), None);
        assert!(server.list().unwrap().is_empty());
    }

    #[test]
    fn change_hidden_from_stat_is_seen_after_reload_interval() {
        let (dir, server) = store();
        let path = dir.path().join(KEYS_FILE);
        let (_, old_secret) = server.add("aaaa", Role::Reader).unwrap();
        assert!(server.authenticate(&old_secret).is_some());
        let before = fs::metadata(&path).unwrap();

        // The file is rewritten in place (same inode) with content of the same size, and its
        // mtime put back, as can happen within the file system's timestamp granularity.
        let (other_dir, other) = store();
        let (_, new_secret) = other.add("bbbb", Role::Reader).unwrap();
        let replacement = fs::read(other_dir.path().join(KEYS_FILE)).unwrap();
        assert_eq!(replacement.len() as u64, before.len());
        fs::write(&path, &replacement).unwrap();
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(before.modified().unwrap())
            .unwrap();
        assert_eq!(server.stamp().unwrap(), Some(Stamp::of(&before)));

        std::thread::sleep(RELOAD_AFTER + Duration::from_millis(100));
        assert_eq!(server.authenticate(&old_secret), None);
        assert!(server.authenticate(&new_secret).is_some());
    }

    #[test]
    fn concurrent_writers_lose_no_key() {
        let (dir, _) = store();
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let path = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    // A store per thread, each with its own lock file handle, like separate processes.
                    let store = KeyStore::open(&path).unwrap();
                    (0..5)
                        .map(|i| store.add(&format!("k{t}-{i}"), Role::Reader).unwrap().1)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let secrets: Vec<String> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let reader = KeyStore::open(dir.path()).unwrap();
        assert_eq!(reader.list().unwrap().len(), 40);
        for secret in &secrets {
            assert!(reader.authenticate(secret).is_some());
        }
    }

    #[test]
    fn names_must_be_present_and_unique() {
        let (_dir, store) = store();
        store.add("ci", Role::Reader).unwrap();
        let err = store.add("ci", Role::Admin).unwrap_err();
        assert!(matches!(err, AuthError::DuplicateName { .. }), "{err}");
        assert!(err.to_string().contains("`ci` already exists"), "{err}");
        assert!(matches!(
            store.add(" ci ", Role::Admin),
            Err(AuthError::DuplicateName { .. })
        ));
        assert!(matches!(
            store.add("", Role::Admin),
            Err(AuthError::EmptyName)
        ));
        assert!(matches!(
            store.add("  ", Role::Admin),
            Err(AuthError::EmptyName)
        ));
        assert_eq!(store.list().unwrap().len(), 1);
    }

    #[test]
    fn corrupt_file_is_an_error_naming_it() {
        let cases = [
            ("not json", "{\"version\": 1, \"keys\": ["),
            ("empty", ""),
            ("wrong version", "{\"version\": 2, \"keys\": []}"),
            (
                "bad hash",
                r#"{"version": 1, "keys": [{"id": "01", "name": "x", "role": "reader",
                    "created_at": "2026-01-01T00:00:00Z", "sha256": "zz"}]}"#,
            ),
            (
                "unknown role",
                r#"{"version": 1, "keys": [{"id": "01", "name": "x", "role": "root",
                    "created_at": "2026-01-01T00:00:00Z", "sha256": ""}]}"#,
            ),
        ];
        for (what, text) in cases {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(KEYS_FILE);
            fs::write(&path, text).unwrap();
            let err = KeyStore::open(dir.path()).unwrap_err();
            let message = err.to_string();
            assert!(
                message.contains(&path.display().to_string()),
                "{what}: {message}"
            );
            assert!(message.contains("corrupt keys file"), "{what}: {message}");
        }
    }

    #[test]
    fn corruption_after_open_fails_closed() {
        let (dir, store) = store();
        let (_, secret) = store.add("ci", Role::Admin).unwrap();
        let path = dir.path().join(KEYS_FILE);
        fs::write(&path, "garbage").unwrap();
        assert_eq!(store.authenticate(&secret), None);
        let err = store.list().unwrap_err();
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        let err = store.add("other", Role::Reader).unwrap_err();
        assert!(matches!(err, AuthError::Parse { .. }), "{err}");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "garbage",
            "left as found"
        );
    }

    #[test]
    fn roles_are_ordered_and_round_trip() {
        assert!(Role::Reader < Role::Editor && Role::Editor < Role::Admin);
        assert!(Role::Admin >= Role::Editor);
        for role in Role::ALL {
            assert_eq!(role.to_string().parse::<Role>().unwrap(), role);
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{role}\""));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
        }
        assert_eq!("Admin".parse::<Role>().unwrap(), Role::Admin);
        let err = "root".parse::<Role>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown role `root` (expected reader, editor or admin)"
        );
    }

    #[test]
    fn store_is_cheap_to_share_across_threads() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<KeyStore>();
        let (_dir, store) = store();
        let (_, secret) = store.add("ci", Role::Reader).unwrap();
        let copy = store.clone();
        assert!(
            std::thread::spawn(move || copy.authenticate(&secret).is_some())
                .join()
                .unwrap()
        );
    }
}

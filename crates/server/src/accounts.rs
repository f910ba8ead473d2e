//! Accounts: organisations, users, API tokens and browser sessions, kept in the store's directory.
//!
//! - Passwords and token secrets are stored as argon2id hashes (PHC strings), never in clear.
//!   A token is shown once, when it is made: `wf_<id>_<secret>`; the id finds its record, the
//!   secret is checked against the hash. Revocation and expiry are read from the record on every
//!   request, so they take effect at once on every node sharing the store; only the (slow)
//!   argon2 check of a secret already proven right is remembered in memory.
//! - A session is a random cookie value; the directory keeps its SHA-256, the user, the expiry
//!   and the session's CSRF token.
//! - Roles decide what a user may do (scopes), never what they see: that is the policy's job.
//!
//! Directory kinds and keys: `org` by org id, `org_name` (name → id), `user` by login name,
//! `token` by token id, `session` by the hex SHA-256 of the cookie value.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use watchfire_model::policy::{Member, OrgId, Peer, Principal, Role, UserId};
use watchfire_store::{Put, Store};

/// How long a browser session lasts without a new log-in.
pub const SESSION_SECONDS: i64 = 12 * 3600;

/// An organisation: a member of the community, or the organisation behind a peer node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Its id.
    pub id: OrgId,
    /// Its unique short name (`cert-a`).
    pub name: String,
    /// Whether it is a member of the community (sees GREEN).
    pub in_community: bool,
    /// The organisations it is a client of (its coordinators, e.g. its national CERT).
    #[serde(default)]
    pub client_of: Vec<OrgId>,
    /// When it was made, microseconds since the epoch.
    pub created_micros: i64,
}

/// A person with a log-in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Its unique log-in name.
    pub name: String,
    /// Its organisation.
    pub org: OrgId,
    /// Its roles.
    pub roles: Vec<Role>,
    /// The argon2id hash of its password (a PHC string).
    pub password_hash: String,
    /// When it was made, microseconds since the epoch.
    pub created_micros: i64,
}

/// What a token (or a user through its roles) may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read intelligence (search, lookups, exports, the stream).
    Read,
    /// Add intelligence (imports, sightings).
    Write,
    /// Report sightings (a sensor).
    Sensor,
    /// Act as another node of the community (federation).
    Peer,
    /// Manage organisations, users and tokens.
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 5] =
        [Scope::Read, Scope::Write, Scope::Sensor, Scope::Peer, Scope::Admin];

    /// Returns the scope's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Sensor => "sensor",
            Scope::Peer => "peer",
            Scope::Admin => "admin",
        }
    }

    /// Parses a scope's name.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == name)
    }
}

/// Returns the scopes a user's roles give.
pub fn role_scopes(roles: &[Role]) -> Vec<Scope> {
    let mut scopes = vec![Scope::Read];
    if roles.iter().any(|role| matches!(role, Role::Admin | Role::Analyst)) {
        scopes.extend([Scope::Write, Scope::Sensor]);
    }
    if roles.contains(&Role::Admin) {
        scopes.push(Scope::Admin);
    }
    scopes
}

/// An API token's record (its secret is only in `secret_hash`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Token {
    /// Its public id (the part between `wf_` and the secret).
    pub id: String,
    /// A name for people (`sensor-1`).
    pub name: String,
    /// The organisation it acts for.
    pub org: OrgId,
    /// The log-in name of the user it acts as, or `None` for a machine token (a sensor or a peer).
    pub user: Option<String>,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// The argon2id hash of the whole token.
    pub secret_hash: String,
    /// When it stops working, microseconds since the epoch.
    pub expires_micros: Option<i64>,
    /// Whether it was revoked.
    pub revoked: bool,
    /// When it was made, microseconds since the epoch.
    pub created_micros: i64,
}

/// A browser session's record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    /// The user's log-in name.
    pub user: String,
    /// The token every state-changing request of the session sends in `X-CSRF-Token`.
    pub csrf: String,
    /// When it ends, microseconds since the epoch.
    pub expires_micros: i64,
}

/// Who a request comes from, once authenticated: the principal the policy judges, and what the
/// caller may do.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The principal for every read.
    pub principal: Principal,
    /// What the caller may do.
    pub scopes: Vec<Scope>,
    /// The caller's organisation (none for an anonymous caller).
    pub org: Option<Organisation>,
    /// The user's log-in name, when a person is behind the request.
    pub user_name: Option<String>,
    /// The token used, when one was.
    pub token_id: Option<String>,
}

impl Identity {
    /// Returns the identity of an unauthenticated caller.
    pub fn anonymous() -> Identity {
        Identity {
            principal: Principal::Anonymous,
            scopes: Vec::new(),
            org: None,
            user_name: None,
            token_id: None,
        }
    }

    /// Tells whether the caller holds `scope`.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// An error of the accounts layer.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] watchfire_store::Error),
    /// A unique name is taken.
    #[error("{kind} {name:?} already exists")]
    Taken {
        /// What kind of name.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A referenced record does not exist.
    #[error("no {kind} {name:?}")]
    Missing {
        /// What kind of record.
        kind: &'static str,
        /// Its name or id.
        name: String,
    },
    /// A value is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// A stored record does not parse.
    #[error("the directory record {0} is damaged")]
    Damaged(String),
}

/// The accounts of the node, kept in the store's directory.
#[derive(Clone, Debug)]
pub struct Accounts {
    store: Arc<dyn Store>,
    /// SHA-256 of token secrets whose argon2 check passed, by token id: a token proven once is
    /// not hashed again with argon2 on every request.
    proven: Arc<Mutex<HashMap<String, [u8; 32]>>>,
    /// Identities of tokens checked in the last [`IDENTITY_TTL`], by token id, with the SHA-256
    /// of the token: a busy client is not read from the directory on every request.
    identities: Arc<Mutex<HashMap<String, RecentIdentity>>>,
    /// Keyed digests of passwords whose argon2 check passed in the last [`PASSWORD_TTL`], by
    /// user name: a client sending Basic credentials on every request (TAXII clients do) costs
    /// one argon2 check per TTL. The key is random per process and the digest covers the stored
    /// hash, so a changed password is checked again, and the digests are useless elsewhere.
    proven_passwords: Proofs,
    password_key: [u8; 32],
}

/// Digests proven right, with when, by name.
type Proofs = Arc<Mutex<HashMap<String, (std::time::Instant, [u8; 32])>>>;

/// How long a password proven right is not checked with argon2 again.
pub const PASSWORD_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// A token's identity as checked at `at`.
#[derive(Clone, Debug)]
struct RecentIdentity {
    at: std::time::Instant,
    /// The SHA-256 of the whole token that was checked.
    digest: [u8; 32],
    expires_micros: Option<i64>,
    identity: Identity,
}

/// How long a checked token's identity is reused without reading its record again: the longest
/// a revocation made on another node sharing the store takes to bite here (on this node it bites
/// at once).
pub const IDENTITY_TTL: std::time::Duration = std::time::Duration::from_secs(2);

impl Accounts {
    /// Returns the accounts kept in `store`.
    pub fn new(store: Arc<dyn Store>) -> Accounts {
        Accounts {
            store,
            proven: Arc::default(),
            identities: Arc::default(),
            proven_passwords: Arc::default(),
            password_key: random_bytes::<32>(),
        }
    }

    /// Makes an organisation with a unique `name`.
    pub fn create_org(
        &self,
        name: &str,
        in_community: bool,
        client_of: Vec<OrgId>,
    ) -> Result<Organisation, AccountError> {
        check_name("organisation", name)?;
        for coordinator in &client_of {
            self.org(*coordinator)?;
        }
        let org = Organisation {
            id: OrgId(Uuid::new_v4()),
            name: name.to_owned(),
            in_community,
            client_of,
            created_micros: watchfire_store::now_micros(),
        };
        let key = org.id.0.to_string();
        if !self.store.directory_put("org_name", name, &key, Put::Insert)? {
            return Err(AccountError::Taken { kind: "organisation", name: name.to_owned() });
        }
        self.store.directory_put("org", &key, &to_json(&org), Put::Insert)?;
        Ok(org)
    }

    /// Returns an organisation by id.
    pub fn org(&self, id: OrgId) -> Result<Organisation, AccountError> {
        let key = id.0.to_string();
        let document = self.store.directory_get("org", &key)?;
        let document = document
            .ok_or_else(|| AccountError::Missing { kind: "organisation", name: key.clone() })?;
        from_json(&document, &key)
    }

    /// Returns an organisation by name.
    pub fn org_by_name(&self, name: &str) -> Result<Organisation, AccountError> {
        let id = self.store.directory_get("org_name", name)?;
        let id = id
            .ok_or_else(|| AccountError::Missing { kind: "organisation", name: name.to_owned() })?;
        let id =
            Uuid::parse_str(&id).map_err(|_| AccountError::Damaged(format!("org_name/{name}")))?;
        self.org(OrgId(id))
    }

    /// Lists the organisations by id.
    pub fn orgs(&self) -> Result<Vec<Organisation>, AccountError> {
        let rows = self.store.directory_list("org")?;
        rows.iter().map(|(key, document)| from_json(document, key)).collect()
    }

    /// Makes a user of `org` with a unique log-in `name` and a password.
    pub fn create_user(
        &self,
        name: &str,
        org: OrgId,
        roles: Vec<Role>,
        password: &str,
    ) -> Result<User, AccountError> {
        check_name("user", name)?;
        if password.chars().count() < 12 {
            return Err(AccountError::Invalid("a password has at least 12 characters".into()));
        }
        if roles.is_empty() {
            return Err(AccountError::Invalid("a user has at least one role".into()));
        }
        self.org(org)?;
        let user = User {
            id: UserId(Uuid::new_v4()),
            name: name.to_owned(),
            org,
            roles,
            password_hash: hash_secret(password)?,
            created_micros: watchfire_store::now_micros(),
        };
        if !self.store.directory_put("user", name, &to_json(&user), Put::Insert)? {
            return Err(AccountError::Taken { kind: "user", name: name.to_owned() });
        }
        Ok(user)
    }

    /// Returns a user by log-in name.
    pub fn user(&self, name: &str) -> Result<Option<User>, AccountError> {
        let document = self.store.directory_get("user", name)?;
        document.map(|document| from_json(&document, name)).transpose()
    }

    /// Lists the users by name.
    pub fn users(&self) -> Result<Vec<User>, AccountError> {
        let rows = self.store.directory_list("user")?;
        rows.iter().map(|(key, document)| from_json(document, key)).collect()
    }

    /// Checks a user's password; returns the user when it is right. The work is the same for an
    /// unknown name, so timing does not tell which names exist.
    pub fn check_password(&self, name: &str, password: &str) -> Result<Option<User>, AccountError> {
        let user = self.user(name)?;
        let hash = user.as_ref().map_or(DUMMY_HASH, |user| user.password_hash.as_str());
        let digest: [u8; 32] = Sha256::new()
            .chain_update(self.password_key)
            .chain_update(hash.as_bytes())
            .chain_update([0])
            .chain_update(password.as_bytes())
            .finalize()
            .into();
        let mut proven =
            self.proven_passwords.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let is_proven = proven
            .get(name)
            .is_some_and(|(at, known)| *known == digest && at.elapsed() < PASSWORD_TTL);
        drop(proven);
        if user.is_some() && is_proven {
            return Ok(user);
        }
        let is_right = verify_secret(hash, password);
        if is_right && user.is_some() {
            proven =
                self.proven_passwords.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if proven.len() >= 100_000 {
                proven.retain(|_, (at, _)| at.elapsed() < PASSWORD_TTL);
            }
            proven.insert(name.to_owned(), (std::time::Instant::now(), digest));
        }
        Ok(user.filter(|_| is_right))
    }

    /// Makes a token; returns its record and the token itself, which is shown once and never
    /// kept in clear.
    pub fn create_token(
        &self,
        name: &str,
        org: OrgId,
        user: Option<&User>,
        scopes: Vec<Scope>,
        expires_micros: Option<i64>,
    ) -> Result<(Token, String), AccountError> {
        if name.is_empty() || name.len() > 100 {
            return Err(AccountError::Invalid("a token name has 1 to 100 characters".into()));
        }
        if scopes.is_empty() {
            return Err(AccountError::Invalid("a token has at least one scope".into()));
        }
        let id = hex(&random_bytes::<8>());
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let full = format!("wf_{id}_{secret}");
        let token = Token {
            id: id.clone(),
            name: name.to_owned(),
            org,
            user: user.map(|user| user.name.clone()),
            scopes,
            secret_hash: hash_secret(&full)?,
            expires_micros,
            revoked: false,
            created_micros: watchfire_store::now_micros(),
        };
        self.store.directory_put("token", &id, &to_json(&token), Put::Insert)?;
        Ok((token, full))
    }

    /// Lists the tokens by id.
    pub fn tokens(&self) -> Result<Vec<Token>, AccountError> {
        let rows = self.store.directory_list("token")?;
        rows.iter().map(|(key, document)| from_json(document, key)).collect()
    }

    /// Returns a token's record.
    pub fn token(&self, id: &str) -> Result<Option<Token>, AccountError> {
        let document = self.store.directory_get("token", id)?;
        document.map(|document| from_json(&document, id)).transpose()
    }

    /// Revokes a token; returns false when there is no such token.
    pub fn revoke_token(&self, id: &str) -> Result<bool, AccountError> {
        let Some(mut token) = self.token(id)? else {
            return Ok(false);
        };
        token.revoked = true;
        self.store.directory_put("token", id, &to_json(&token), Put::Replace)?;
        self.proven.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
        self.identities.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
        Ok(true)
    }

    /// Returns the identity of a token checked less than [`IDENTITY_TTL`] ago and not expired
    /// since, without I/O.
    pub fn recent_token_identity(&self, presented: &str, now_micros: i64) -> Option<Identity> {
        let id = token_id(presented)?;
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let identities = self.identities.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let recent = identities.get(id)?;
        let is_expired = recent.expires_micros.is_some_and(|expires| expires <= now_micros);
        let is_fresh = recent.at.elapsed() < IDENTITY_TTL;
        (recent.digest == digest && is_fresh && !is_expired).then(|| recent.identity.clone())
    }

    /// Remembers the identity of a token just checked.
    pub fn remember_token_identity(&self, presented: &str, token: &Token, identity: &Identity) {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut identities =
            self.identities.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if identities.len() >= 100_000 {
            identities.retain(|_, recent| recent.at.elapsed() < IDENTITY_TTL);
        }
        let recent = RecentIdentity {
            at: std::time::Instant::now(),
            digest,
            expires_micros: token.expires_micros,
            identity: identity.clone(),
        };
        identities.insert(token.id.clone(), recent);
    }

    /// Checks a presented token; returns its record when it is known, right, not expired and
    /// not revoked.
    pub fn check_token(
        &self,
        presented: &str,
        now_micros: i64,
    ) -> Result<Option<Token>, AccountError> {
        let Some(id) = token_id(presented) else {
            return Ok(None);
        };
        let Some(token) = self.token(id)? else {
            // The same work as for a known token, so timing does not tell which ids exist.
            verify_secret(DUMMY_HASH, presented);
            return Ok(None);
        };
        let is_expired = token.expires_micros.is_some_and(|expires| expires <= now_micros);
        if token.revoked || is_expired {
            return Ok(None);
        }
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let is_proven = {
            let proven = self.proven.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            proven.get(id) == Some(&digest)
        };
        if !is_proven {
            if !verify_secret(&token.secret_hash, presented) {
                return Ok(None);
            }
            self.proven
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(id.to_owned(), digest);
        }
        Ok(Some(token))
    }

    /// Opens a browser session for `user`; returns the cookie value and the session.
    pub fn create_session(
        &self,
        user: &User,
        now_micros: i64,
    ) -> Result<(String, Session), AccountError> {
        let cookie = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let session = Session {
            user: user.name.clone(),
            csrf: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<24>()),
            expires_micros: now_micros + SESSION_SECONDS * 1_000_000,
        };
        self.store.directory_put(
            "session",
            &session_key(&cookie),
            &to_json(&session),
            Put::Insert,
        )?;
        Ok((cookie, session))
    }

    /// Returns the live session of a cookie value.
    pub fn session(&self, cookie: &str, now_micros: i64) -> Result<Option<Session>, AccountError> {
        let key = session_key(cookie);
        let Some(document) = self.store.directory_get("session", &key)? else {
            return Ok(None);
        };
        let session: Session = from_json(&document, "session")?;
        if session.expires_micros <= now_micros {
            self.store.directory_delete("session", &key)?;
            return Ok(None);
        }
        Ok(Some(session))
    }

    /// Ends a session.
    pub fn end_session(&self, cookie: &str) -> Result<(), AccountError> {
        self.store.directory_delete("session", &session_key(cookie))?;
        Ok(())
    }

    /// Returns the identity of a user.
    pub fn user_identity(&self, user: &User) -> Result<Identity, AccountError> {
        let org = self.org(user.org)?;
        Ok(Identity {
            principal: Principal::Member(Member {
                org: org.id,
                user: Some(user.id),
                roles: user.roles.clone(),
                in_community: org.in_community,
                client_of: org.client_of.clone(),
            }),
            scopes: role_scopes(&user.roles),
            org: Some(org),
            user_name: Some(user.name.clone()),
            token_id: None,
        })
    }

    /// Returns the identity a token gives: a peer token acts as its organisation's node, any
    /// other as a member (its user, or nobody in person for a machine token). A token of a user
    /// never does more than the user's roles allow.
    pub fn token_identity(&self, token: &Token) -> Result<Identity, AccountError> {
        let org = self.org(token.org)?;
        let mut scopes = token.scopes.clone();
        let mut user_name = None;
        let mut user_id = None;
        let mut roles = Vec::new();
        if let Some(name) = &token.user {
            let user = self.user(name)?;
            let user =
                user.ok_or_else(|| AccountError::Missing { kind: "user", name: name.clone() })?;
            let allowed = role_scopes(&user.roles);
            scopes.retain(|scope| allowed.contains(scope));
            user_name = Some(user.name);
            user_id = Some(user.id);
            roles = user.roles;
        }
        let principal = if scopes.contains(&Scope::Peer) {
            Principal::Peer(Peer { org: org.id, in_community: org.in_community })
        } else {
            Principal::Member(Member {
                org: org.id,
                user: user_id,
                roles,
                in_community: org.in_community,
                client_of: org.client_of.clone(),
            })
        };
        Ok(Identity {
            principal,
            scopes,
            org: Some(org),
            user_name,
            token_id: Some(token.id.clone()),
        })
    }
}

/// A valid argon2id hash of a random secret nobody knows: checked against when the name or
/// token id is unknown, so that the answer takes as long as for a known one.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ZHVtbXlzYWx0ZHVtbXk$7Wb9Sv0bZ9tO0Wm8w5cI1YF0pQGyrVq7I3j6lU7Qe5k";

/// Returns the id part of a presented token `wf_<16 hex>_<secret>`.
pub fn token_id(presented: &str) -> Option<&str> {
    let rest = presented.strip_prefix("wf_")?;
    let (id, secret) = rest.split_once('_')?;
    let is_id = id.len() == 16 && id.bytes().all(|byte| byte.is_ascii_hexdigit());
    (is_id && !secret.is_empty() && presented.len() <= 200).then_some(id)
}

fn argon2() -> Argon2<'static> {
    // OWASP's first argon2id choice: 19 MiB, 2 passes, 1 lane.
    // Cannot fail: the parameters are constants within argon2's ranges.
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_secret(secret: &str) -> Result<String, AccountError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>())
        .map_err(|error| AccountError::Invalid(format!("cannot make a salt: {error}")))?;
    let hash = argon2()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|error| AccountError::Invalid(format!("cannot hash the secret: {error}")))?;
    Ok(hash.to_string())
}

fn verify_secret(hash: &str, secret: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|hash| argon2().verify_password(secret.as_bytes(), &hash).is_ok())
}

fn session_key(cookie: &str) -> String {
    hex(&Sha256::digest(cookie.as_bytes()))
}

/// Returns `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // Cannot fail on a supported operating system; a node without a random source must not run.
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    bytes
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

fn check_name(kind: &str, name: &str) -> Result<(), AccountError> {
    let is_valid = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-_.@".contains(&byte));
    if is_valid {
        Ok(())
    } else {
        Err(AccountError::Invalid(format!(
            "a {kind} name has 1 to 64 characters of a-z, A-Z, 0-9, '-', '_', '.', '@'"
        )))
    }
}

fn to_json(value: &impl Serialize) -> String {
    // Cannot fail: the account records are plain structs of strings, numbers and ids.
    serde_json::to_string(value).expect("account records serialise")
}

fn from_json<T: for<'de> Deserialize<'de>>(document: &str, key: &str) -> Result<T, AccountError> {
    serde_json::from_str(document).map_err(|_| AccountError::Damaged(key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_valid_argon2id_hash() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_secret(DUMMY_HASH, "anything"));
    }

    #[test]
    fn token_ids_are_read_from_well_formed_tokens_only() {
        assert_eq!(token_id("wf_0123456789abcdef_secret"), Some("0123456789abcdef"));
        for bad in [
            "",
            "wf_",
            "wf_0123_secret",
            "xx_0123456789abcdef_s",
            "wf_0123456789abcdeg_s",
            "wf_0123456789abcdef_",
        ] {
            assert_eq!(token_id(bad), None, "{bad}");
        }
    }
}

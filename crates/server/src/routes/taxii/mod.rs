//! TAXII 2.1 under `/taxii2/`: discovery, one API root (`/taxii2/root/`), its collections, their
//! objects (GET, POST, DELETE), objects by id, versions, manifests and status resources.
//!
//! Every answer is `application/taxii+json;version=2.1`; a request must accept it (else 406) and
//! a POST must send it (else 415). Errors are TAXII error messages. Timestamps (`date_added`,
//! `X-TAXII-Date-Added-First`/`-Last`, status times) have exactly six fractional digits. Pages
//! follow the log: `next` is a log sequence number, never an offset. Every object served passes
//! the access policy for the caller (the same `Caller` as the REST API: Basic or Bearer).
//!
//! Collections (ids are UUIDv5 of their alias, so they are stable across nodes and restarts):
//! - `all`: every object the caller may see; read-only.
//! - `tlp-clear`, `tlp-green`, `tlp-amber`, `tlp-amber-strict`, `tlp-red`: the same, one level each; read-only.
//! - `inbox-<organisation>`, one per organisation: its members with the `write` scope add objects
//!   (stored as source `<organisation>/taxii`, owned by the organisation, at the TLP of their
//!   markings, else AMBER) and read back what was added there.

mod objects;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde_json::{Value, json};
use uuid::Uuid;
use watchfire_model::policy::Principal;
use watchfire_model::tlp::Tlp;

use super::RouteDoc;
use crate::AppState;
use crate::accounts::{Organisation, Scope};
use crate::auth::{Caller, account_error};
use crate::error::{ApiError, Code};

/// The TAXII 2.1 media type of every answer.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// The STIX 2.1 media type of the objects in collections.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";
/// The path of the one API root.
pub const API_ROOT: &str = "/taxii2/root/";
/// The namespace of collection ids (UUIDv5 of the alias).
const COLLECTION_NAMESPACE: Uuid = Uuid::from_u128(0x2b0e_6f3c_47a1_4d55_9c1e_7a35_d0c4_1f2e);

pub fn routes() -> Vec<(RouteDoc, MethodRouter<AppState>)> {
    let doc = |method, path, summary, body: Option<&'static str>, params| RouteDoc {
        method,
        path,
        summary,
        tag: "taxii",
        scope: Some("read (write to add or delete; peer for other nodes)"),
        params,
        body,
        answer: TAXII_MEDIA_TYPE,
    };
    const OBJECT_PARAMS: &[(&str, &str, &str)] = &[
        ("id", "path", "the collection id"),
        ("added_after", "query", "only objects added after this time"),
        ("limit", "query", "objects per page (1 to 1000)"),
        ("next", "query", "the `next` of the previous page"),
        ("match[id]", "query", "object ids, comma-separated"),
        ("match[type]", "query", "object types, comma-separated"),
        ("match[version]", "query", "last (default), first, all, or a version timestamp"),
        ("match[spec_version]", "query", "2.1"),
    ];
    vec![
        (
            doc("get", "/taxii2/", "TAXII discovery: the node and its API root", None, &[]),
            get(discovery),
        ),
        (doc("get", "/taxii2/root/", "TAXII API root information", None, &[]), get(api_root)),
        (
            doc(
                "get",
                "/taxii2/root/collections/",
                "The collections the caller may read or write",
                None,
                &[],
            ),
            get(collections),
        ),
        (
            doc(
                "get",
                "/taxii2/root/collections/{id}/",
                "One collection",
                None,
                &[("id", "path", "the collection id")],
            ),
            get(collection),
        ),
        (
            doc(
                "get",
                "/taxii2/root/collections/{id}/objects/",
                "The objects of a collection, paged by `next`",
                None,
                OBJECT_PARAMS,
            ),
            get(objects::list),
        ),
        (
            doc(
                "post",
                "/taxii2/root/collections/{id}/objects/",
                "Add objects (an envelope) to a collection; answers a status resource",
                Some(TAXII_MEDIA_TYPE),
                &[("id", "path", "the collection id")],
            ),
            axum::routing::post(objects::add),
        ),
        (
            doc(
                "get",
                "/taxii2/root/collections/{id}/objects/{object_id}/",
                "One object's versions in a collection",
                None,
                OBJECT_PARAMS,
            ),
            get(objects::by_id),
        ),
        (
            doc(
                "delete",
                "/taxii2/root/collections/{id}/objects/{object_id}/",
                "Delete an object the caller's organisation added to the collection",
                None,
                &[("id", "path", "the collection id"), ("object_id", "path", "the object id")],
            ),
            axum::routing::delete(objects::remove),
        ),
        (
            doc(
                "get",
                "/taxii2/root/collections/{id}/objects/{object_id}/versions/",
                "The versions of an object",
                None,
                OBJECT_PARAMS,
            ),
            get(objects::versions),
        ),
        (
            doc(
                "get",
                "/taxii2/root/collections/{id}/manifest/",
                "The manifest of a collection's objects",
                None,
                OBJECT_PARAMS,
            ),
            get(objects::manifest),
        ),
        (
            RouteDoc {
                method: "get",
                path: "/api/v1/taxii-collections",
                summary: "The TAXII collections an administrator configured",
                tag: "taxii",
                scope: Some("admin"),
                params: &[],
                body: None,
                answer: "application/json",
            },
            get(list_configured),
        ),
        (
            RouteDoc {
                method: "post",
                path: "/api/v1/taxii-collections",
                summary: "Configure a TAXII collection: {alias, title, description, tlp, sources, types, readers, writers}",
                tag: "taxii",
                scope: Some("admin"),
                params: &[],
                body: Some("application/json"),
                answer: "application/json",
            },
            axum::routing::post(configure),
        ),
        (
            RouteDoc {
                method: "delete",
                path: "/api/v1/taxii-collections/{alias}",
                summary: "Remove a configured TAXII collection (its objects stay in the log)",
                tag: "taxii",
                scope: Some("admin"),
                params: &[("alias", "path", "the collection's alias")],
                body: None,
                answer: "application/json",
            },
            axum::routing::delete(unconfigure),
        ),
        (
            doc(
                "get",
                "/taxii2/root/status/{status_id}/",
                "A status resource of an earlier POST",
                None,
                &[("status_id", "path", "the status id")],
            ),
            get(status),
        ),
    ]
}

/// An error answered as a TAXII error message.
#[derive(Debug)]
pub struct TaxiiError {
    status: StatusCode,
    title: String,
    description: String,
}

impl TaxiiError {
    pub fn new(status: StatusCode, title: &str, description: impl Into<String>) -> TaxiiError {
        TaxiiError { status, title: title.to_owned(), description: description.into() }
    }

    pub fn not_found() -> TaxiiError {
        TaxiiError::new(
            StatusCode::NOT_FOUND,
            "not found",
            "no such collection, object or status, or none the caller may see",
        )
    }
}

impl From<ApiError> for TaxiiError {
    fn from(error: ApiError) -> TaxiiError {
        let code = error.code();
        let status = code.status();
        let title = match code {
            Code::Unauthenticated => "authentication required",
            Code::Forbidden => "forbidden",
            Code::NotFound => "not found",
            Code::TooManyRequests => "too many requests",
            Code::PayloadTooLarge => "payload too large",
            Code::Internal => "internal error",
            Code::Unavailable => "unavailable",
            _ => "bad request",
        };
        TaxiiError { status, title: title.to_owned(), description: error.message().to_owned() }
    }
}

impl From<watchfire_store::Error> for TaxiiError {
    fn from(error: watchfire_store::Error) -> TaxiiError {
        TaxiiError::from(ApiError::from(error))
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let body = json!({
            "title": self.title,
            "description": self.description,
            "http_status": self.status.as_u16().to_string(),
        });
        let mut response = taxii_json(self.status, &body);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"watchfire\", Bearer"),
            );
        }
        response
    }
}

pub type TaxiiResult<T> = Result<T, TaxiiError>;

/// Answers `body` with `status` and the TAXII media type.
pub fn taxii_json(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, TAXII_MEDIA_TYPE)], bytes).into_response()
}

/// Checks that the request accepts TAXII 2.1 JSON (406 otherwise).
pub fn check_accept(headers: &HeaderMap) -> TaxiiResult<()> {
    let accept = headers.get(header::ACCEPT).and_then(|value| value.to_str().ok()).unwrap_or("");
    let is_taxii = accept.split(',').any(|item| {
        let item = item.replace(' ', "");
        let mut parts = item.split(';');
        let is_type = parts
            .next()
            .is_some_and(|media_type| media_type.eq_ignore_ascii_case("application/taxii+json"));
        let version_ok = parts.all(|parameter| match parameter.split_once('=') {
            Some(("version", version)) => version == "2.1",
            _ => true,
        });
        is_type && version_ok
    });
    if is_taxii {
        Ok(())
    } else {
        Err(TaxiiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not acceptable",
            format!("send Accept: {TAXII_MEDIA_TYPE}"),
        ))
    }
}

/// Authenticates (as the REST API does) and answers in TAXII terms on failure.
/// An anonymous caller is asked to log in unless the node serves CLEAR publicly.
pub fn caller(
    state: &AppState,
    caller: Result<Caller, ApiError>,
    headers: &HeaderMap,
) -> TaxiiResult<Caller> {
    check_accept(headers)?;
    let caller = caller?;
    let is_anonymous = matches!(caller.identity.principal, Principal::Anonymous);
    if is_anonymous && !state.config.public {
        return Err(ApiError::unauthenticated().into());
    }
    Ok(caller)
}

/// A collection and the caller's rights on it.
#[derive(Clone, Debug)]
pub struct Collection {
    pub id: String,
    pub alias: String,
    pub title: String,
    pub description: String,
    /// Only objects of these TLP levels (empty: all).
    pub tlps: Vec<Tlp>,
    /// Only objects of these sources (empty: all).
    pub sources: Vec<String>,
    /// Only objects of these types (empty: all).
    pub types: Vec<String>,
    /// The source objects added through the collection are stored under (one of `sources`).
    pub write_source: Option<String>,
    /// The organisation objects added through the collection are owned by (the caller's).
    pub writer: Option<Organisation>,
    pub can_read: bool,
    pub can_write: bool,
}

impl Collection {
    fn view(&self) -> Value {
        json!({
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "alias": self.alias,
            "can_read": self.can_read,
            "can_write": self.can_write,
            "media_types": [STIX_MEDIA_TYPE],
        })
    }

    /// Tells whether a log entry belongs to the collection (its filters; access is the reader's).
    pub fn holds(&self, entry: &watchfire_store::Entry) -> bool {
        (self.sources.is_empty() || self.sources.contains(&entry.source))
            && (self.tlps.is_empty() || self.tlps.contains(&entry.audience.tlp))
            && (self.types.is_empty() || self.types.contains(&entry.object_type))
    }
}

/// A collection an administrator configured (`/api/v1/taxii-collections`), kept in the store's
/// directory under `taxii_collection`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionConfig {
    /// Its alias (`[a-z0-9-]`, unique; the id is derived from it).
    pub alias: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Only these TLP levels (empty: all).
    #[serde(default)]
    pub tlp: Vec<Tlp>,
    /// Only these sources (empty: all).
    #[serde(default)]
    pub sources: Vec<String>,
    /// Only these STIX types (empty: all).
    #[serde(default)]
    pub types: Vec<String>,
    /// The organisations that may read it (empty: every caller who may read; the policy still
    /// filters each object).
    #[serde(default)]
    pub readers: Vec<String>,
    /// The organisations whose members with the `write` scope may add objects (stored under
    /// the source `taxii/<alias>`, owned by the writer's organisation).
    #[serde(default)]
    pub writers: Vec<String>,
}

impl CollectionConfig {
    /// The source of objects added through the collection.
    pub fn write_source(&self) -> String {
        format!("taxii/{}", self.alias)
    }

    /// Checks the alias and names.
    pub fn check(&self) -> Result<(), String> {
        let is_alias = !self.alias.is_empty()
            && self.alias.len() <= 64
            && self
                .alias
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
        let is_reserved = self.alias == "all"
            || self.alias.starts_with("tlp-")
            || self.alias.starts_with("inbox-");
        if !is_alias || is_reserved {
            return Err(
                "alias: 1 to 64 characters of a-z, 0-9 and '-', not `all`, `tlp-*` or `inbox-*`"
                    .into(),
            );
        }
        if self.title.is_empty() || self.title.len() > 200 {
            return Err("title: 1 to 200 characters".into());
        }
        Ok(())
    }
}

/// Returns the id of the collection with `alias`.
pub fn collection_id(alias: &str) -> String {
    Uuid::new_v5(&COLLECTION_NAMESPACE, alias.as_bytes()).to_string()
}

/// Returns the collections the caller may read or write (blocking: reads the organisations and
/// the configured collections).
pub fn visible_collections(state: &AppState, caller: &Caller) -> TaxiiResult<Vec<Collection>> {
    let may_read = caller.reader(state).is_ok();
    let may_write = caller.identity.has(Scope::Write);
    let own_org = match &caller.identity.principal {
        Principal::Member(member) => Some(state.accounts.org(member.org).map_err(account_error)?),
        _ => None,
    };
    let base = |alias: String, title: String, description: String| Collection {
        id: collection_id(&alias),
        alias,
        title,
        description,
        tlps: Vec::new(),
        sources: Vec::new(),
        types: Vec::new(),
        write_source: None,
        writer: None,
        can_read: may_read,
        can_write: false,
    };
    let mut collections =
        vec![base("all".into(), "Everything".into(), "Every object the caller may see".into())];
    for tlp in Tlp::ALL {
        // `tlp-amber-strict`, titled `TLP:AMBER+STRICT`.
        let mut collection = base(
            format!("tlp-{}", tlp.level_name().replace('+', "-")),
            tlp.as_str().to_owned(),
            format!("The objects at {} the caller may see", tlp.as_str()),
        );
        collection.tlps = vec![tlp];
        collections.push(collection);
    }
    if let Some(org) = &own_org {
        let source = format!("{}/taxii", org.name);
        let mut inbox = base(
            format!("inbox-{}", org.name),
            format!("Inbox of {}", org.name),
            format!("Objects {} shares with the node", org.name),
        );
        inbox.sources = vec![source.clone()];
        inbox.write_source = Some(source);
        inbox.writer = Some(org.clone());
        inbox.can_write = may_write;
        collections.push(inbox);
    }
    for (_, document) in state.store.directory_list("taxii_collection")? {
        let Ok(config) = serde_json::from_str::<CollectionConfig>(&document) else {
            tracing::warn!(document, "skipped a damaged TAXII collection configuration");
            continue;
        };
        let org_name = own_org.as_ref().map(|org| org.name.as_str());
        let is_reader = config.readers.is_empty()
            || org_name.is_some_and(|name| config.readers.iter().any(|reader| reader == name));
        let is_writer =
            org_name.is_some_and(|name| config.writers.iter().any(|writer| writer == name));
        let mut collection =
            base(config.alias.clone(), config.title.clone(), config.description.clone());
        collection.tlps = config.tlp.clone();
        collection.types = config.types.clone();
        collection.sources = config.sources.clone();
        if !config.writers.is_empty() && !collection.sources.is_empty() {
            collection.sources.push(config.write_source());
        }
        collection.write_source = Some(config.write_source());
        collection.writer = own_org.clone().filter(|_| is_writer);
        collection.can_read = may_read && is_reader;
        collection.can_write = may_write && is_writer;
        collections.push(collection);
    }
    collections.retain(|collection| collection.can_read || collection.can_write);
    Ok(collections)
}

/// Returns the collection `id` if the caller may read or write it; 404 otherwise (the same for
/// a collection that does not exist).
pub fn find_collection(state: &AppState, caller: &Caller, id: &str) -> TaxiiResult<Collection> {
    visible_collections(state, caller)?
        .into_iter()
        .find(|collection| collection.id == id)
        .ok_or_else(TaxiiError::not_found)
}

fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let scheme = if state.config.tls.is_some() { "https" } else { "http" };
    let host =
        headers.get(header::HOST).and_then(|value| value.to_str().ok()).unwrap_or("localhost");
    // The Host header is the client's: it only shapes the URLs we answer that client with.
    let host: String =
        host.chars().filter(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(*c)).collect();
    format!("{scheme}://{host}")
}

async fn discovery(
    State(state): State<AppState>,
    caller_result: Result<Caller, ApiError>,
    headers: HeaderMap,
) -> TaxiiResult<Response> {
    caller(&state, caller_result, &headers)?;
    let root = format!("{}{API_ROOT}", base_url(&state, &headers));
    Ok(taxii_json(
        StatusCode::OK,
        &json!({
            "title": "watchfire",
            "description": "A watchfire node: threat intelligence shared under TLP",
            "default": root,
            "api_roots": [root],
        }),
    ))
}

async fn api_root(
    State(state): State<AppState>,
    caller_result: Result<Caller, ApiError>,
    headers: HeaderMap,
) -> TaxiiResult<Response> {
    caller(&state, caller_result, &headers)?;
    Ok(taxii_json(
        StatusCode::OK,
        &json!({
            "title": "watchfire",
            "description": "Every collection of this node",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": state.config.limits.bulk_bytes,
        }),
    ))
}

async fn collections(
    State(state): State<AppState>,
    caller_result: Result<Caller, ApiError>,
    headers: HeaderMap,
) -> TaxiiResult<Response> {
    let caller = caller(&state, caller_result, &headers)?;
    let collections = blocking(&state, move |state| visible_collections(state, &caller)).await?;
    let views: Vec<Value> = collections.iter().map(Collection::view).collect();
    Ok(taxii_json(StatusCode::OK, &json!({ "collections": views })))
}

async fn collection(
    State(state): State<AppState>,
    caller_result: Result<Caller, ApiError>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> TaxiiResult<Response> {
    let caller = caller(&state, caller_result, &headers)?;
    let found = blocking(&state, move |state| find_collection(state, &caller, &id)).await?;
    Ok(taxii_json(StatusCode::OK, &found.view()))
}

async fn status(
    State(state): State<AppState>,
    caller_result: Result<Caller, ApiError>,
    headers: HeaderMap,
    Path(status_id): Path<String>,
) -> TaxiiResult<Response> {
    let caller = caller(&state, caller_result, &headers)?;
    let document = blocking(&state, move |state| {
        let document = state
            .store
            .directory_get("taxii_status", &status_id)?
            .ok_or_else(TaxiiError::not_found)?;
        let value: Value = serde_json::from_str(&document).map_err(|_| TaxiiError::not_found())?;
        // A status belongs to the organisation that posted: others get a 404.
        let own = caller.identity.org.as_ref().map(|org| org.id.0.to_string());
        if value["owner"].as_str() != own.as_deref() {
            return Err(TaxiiError::not_found());
        }
        Ok(value)
    })
    .await?;
    let mut status = document;
    if let Some(object) = status.as_object_mut() {
        object.remove("owner");
    }
    Ok(taxii_json(StatusCode::OK, &status))
}

/// Runs `work` on the blocking pool with TAXII errors.
pub async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&AppState) -> TaxiiResult<T> + Send + 'static,
) -> TaxiiResult<T> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || work(&state))
        .await
        .map_err(|error| TaxiiError::from(ApiError::internal(&error)))?
}

async fn list_configured(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    let configured = state
        .blocking(|state| {
            let rows = state.store.directory_list("taxii_collection")?;
            Ok(rows
                .iter()
                .filter_map(|(_, document)| serde_json::from_str::<CollectionConfig>(document).ok())
                .map(|config| json!({"id": collection_id(&config.alias), "config": config}))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(crate::routes::json(&json!({ "collections": configured })))
}

async fn configure(
    State(state): State<AppState>,
    caller: Caller,
    crate::routes::JsonBody(config): crate::routes::JsonBody<CollectionConfig>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    config.check().map_err(|reason| ApiError::new(Code::BadRequest, reason))?;
    let view = state
        .blocking(move |state| {
            for name in config.readers.iter().chain(&config.writers) {
                state.accounts.org_by_name(name).map_err(account_error)?;
            }
            let document = serde_json::to_string(&config).map_err(|error| ApiError::internal(&error))?;
            let put = watchfire_store::Put::Insert;
            if !state.store.directory_put("taxii_collection", &config.alias, &document, put)? {
                return Err(ApiError::new(Code::Conflict, format!("collection {:?} already exists", config.alias)));
            }
            tracing::info!(alias = config.alias, by = ?caller.identity.user_name, "taxii collection configured");
            Ok(json!({"id": collection_id(&config.alias), "config": config}))
        })
        .await?;
    Ok(crate::routes::json(&view))
}

async fn unconfigure(
    State(state): State<AppState>,
    caller: Caller,
    Path(alias): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    state
        .blocking(move |state| {
            if !state.store.directory_delete("taxii_collection", &alias)? {
                return Err(ApiError::not_found());
            }
            Ok(())
        })
        .await?;
    Ok(crate::routes::json(&json!({ "removed": true })))
}

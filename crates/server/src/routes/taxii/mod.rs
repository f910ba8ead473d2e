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
    /// Only objects of this TLP (the `tlp-*` collections).
    pub tlp: Option<Tlp>,
    /// Only objects of this source (an inbox).
    pub source: Option<String>,
    /// The organisation of an inbox.
    pub inbox_of: Option<Organisation>,
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
}

/// Returns the id of the collection with `alias`.
pub fn collection_id(alias: &str) -> String {
    Uuid::new_v5(&COLLECTION_NAMESPACE, alias.as_bytes()).to_string()
}

/// Returns the collections the caller may read or write (blocking: reads the organisations).
pub fn visible_collections(state: &AppState, caller: &Caller) -> TaxiiResult<Vec<Collection>> {
    let may_read = caller.reader(state).is_ok();
    let mut collections = Vec::new();
    let mut add = |alias: String,
                   title: String,
                   description: String,
                   tlp,
                   source,
                   inbox_of,
                   can_read,
                   can_write| {
        if can_read || can_write {
            collections.push(Collection {
                id: collection_id(&alias),
                alias,
                title,
                description,
                tlp,
                source,
                inbox_of,
                can_read,
                can_write,
            });
        }
    };
    add(
        "all".into(),
        "Everything".into(),
        "Every object the caller may see".into(),
        None,
        None,
        None,
        may_read,
        false,
    );
    for tlp in Tlp::ALL {
        let alias = format!("tlp-{}", tlp.as_str().replace('+', "-"));
        let title = format!("TLP:{}", tlp.as_str().to_uppercase());
        let description =
            format!("The objects at TLP:{} the caller may see", tlp.as_str().to_uppercase());
        add(alias, title, description, Some(tlp), None, None, may_read, false);
    }
    let own_org = match &caller.identity.principal {
        Principal::Member(member) => Some(member.org),
        _ => None,
    };
    if let Some(own) = own_org {
        let org = state.accounts.org(own).map_err(account_error)?;
        let can_write = caller.identity.has(Scope::Write);
        let alias = format!("inbox-{}", org.name);
        let title = format!("Inbox of {}", org.name);
        let description = format!("Objects {} shares with the node", org.name);
        let source = Some(format!("{}/taxii", org.name));
        add(alias, title, description, None, source, Some(org), may_read, can_write);
    }
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

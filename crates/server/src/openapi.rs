//! The OpenAPI 3.1 document of the API, made from the same route table that builds the router,
//! so that every route is in it and nothing else is.

use serde_json::{Map, Value, json};

use crate::error::Code;
use crate::routes;

/// Returns the OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for (doc, _) in routes::table() {
        let path = paths.entry(doc.path).or_insert_with(|| json!({}));
        let parameters: Vec<Value> = doc
            .params
            .iter()
            .map(|(name, place, description)| {
                json!({
                    "name": name,
                    "in": place,
                    "required": *place == "path",
                    "description": description,
                    "schema": {"type": "string"},
                })
            })
            .collect();
        let mut responses = Map::new();
        responses
            .insert("200".into(), json!({"description": "success", "content": {doc.answer: {}}}));
        responses.insert(
            "default".into(),
            json!({"description": "an error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
        let mut operation = json!({
            "summary": doc.summary,
            "tags": [doc.tag],
            "operationId": format!("{}_{}", doc.method, doc.path.trim_start_matches('/').replace(['/', '{', '}', '.'], "_")),
            "parameters": parameters,
            "responses": responses,
        });
        match doc.scope {
            Some(scope) => {
                operation["description"] = json!(format!("Needs the `{scope}` scope."));
                operation["security"] = json!([{"bearer": []}, {"basic": []}, {"session": []}]);
            }
            None => operation["security"] = json!([{}]),
        }
        if let Some(media_type) = doc.body {
            operation["requestBody"] = json!({"required": true, "content": {media_type: {}}});
        }
        path[doc.method] = operation;
    }
    let codes: Vec<&str> = Code::ALL.iter().map(|code| code.as_str()).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "watchfire node API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Threat intelligence of a watchfire node, filtered for each caller by TLP and distribution. \
                Errors are {\"error\":{\"code\",\"message\",\"link\"}}; the codes are listed at /api/v1/errors.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an API token wf_<id>_<secret>"},
                "basic": {"type": "http", "scheme": "basic", "description": "user name and password, or any user name and a token as the password"},
                "session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE, "description": "a browser session; state-changing requests also send X-CSRF-Token"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string", "enum": codes},
                            "message": {"type": "string"},
                            "link": {"type": "string"},
                        },
                    }},
                },
            },
        },
    })
}

//! The OpenAPI document (`GET /openapi.json`) and the API reference page (`GET /docs`).
//!
//! The document is generated from the code: each handler carries a `#[utoipa::path]`, and
//! `super::route_table` registers every handler through `utoipa_actix_web`, which adds the handler's
//! operation to the document as it adds the route to the app. What this module adds by hand is what
//! no handler says: the title, the tags, the security scheme and the shared error responses.
//!
//! The reference page is Swagger UI, compiled into the binary (the `utoipa-swagger-ui` crate with
//! its `vendored` feature: the build takes the files from a crate, never from the network) and
//! served from `/docs/{file}`, so it works on a server without internet access.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use actix_web::{get, web, HttpResponse};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{IntoResponses, Modify, OpenApi, PartialSchema, ToResponse, ToSchema};

use super::error::Problem;
use super::ApiError;

/// Name of the security scheme of API keys in the document.
pub(super) const API_KEY: &str = "api_key";

/// What the document says besides the operations, which the routes add.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hexaglot HTTP API",
        description = "Terminology (concepts and terms), translation memory, consistency checks, \
            imports and exports, for the six official UN languages and any other language tag.\n\n\
            Every 4xx and 5xx answer is `application/problem+json` (RFC 9457). \
            Send keys as `Authorization: Bearer <api-key>`; the roles, each including the ones \
            before it, are `reader` (every GET and the read-only POSTs `/tm/lookup` and \
            `/check`), `editor` (single concepts and units) and `admin` (imports, exports, \
            collections). Reading without a key is allowed unless the server runs with \
            `--require-auth`. The role an operation needs is the scope of its `api_key` \
            security requirement; an empty requirement beside it means a key is optional.\n\n\
            Offsets (`start`, `end`) count Unicode code points of the text the client sent."
    ),
    modifiers(&ApiKeyScheme),
    components(
        schemas(Problem),
        responses(
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            PreconditionFailed,
            PayloadTooLarge,
            UnsupportedMediaType,
            Unprocessable,
            TooManyRequests,
            Internal,
            Unavailable
        )
    ),
    tags(
        (name = "termbase", description = "Concepts and term search"),
        (name = "translation-memory", description = "Translation units, fuzzy lookup, concordance"),
        (name = "check", description = "Terminology and consistency checks of translations"),
        (name = "files", description = "Import and export of TBX, TMX, CSV, TSV and XLSX files"),
        (name = "collections", description = "Collections and counts"),
        (name = "service", description = "Health, metrics, this document and the web pages")
    )
)]
pub(super) struct ApiDoc;

/// Adds the bearer-key scheme the `security(...)` of the operations name.
struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            API_KEY,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("hexaglot API key")
                    .description(Some(
                        "An API key made with `hexaglot keys add --role ROLE --name NAME`, sent as \
                         `Authorization: Bearer <api-key>`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// A problem+json response with a description.
fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// Declares reusable problem+json responses, referenced by the operations as `response = Name`.
macro_rules! problem_responses {
    ($($name:ident => $description:literal,)*) => {
        $(
            #[doc = $description]
            pub(super) struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (stringify!($name), problem($description))
                }
            }
        )*
    };
}

problem_responses! {
    BadRequest => "Invalid query parameters, path or body.",
    Unauthorized => "No key where this needs one, a malformed Authorization header, or an unknown key.",
    Forbidden => "The key's role is too small for this operation.",
    NotFound => "No such item.",
    Conflict => "The item exists already.",
    PreconditionFailed => "`If-Match` names another version than the stored one.",
    PayloadTooLarge => "The body is larger than the server's limit, or a check has too many segments.",
    UnsupportedMediaType => "A content type this operation cannot read.",
    Unprocessable => "The body is well-formed but invalid; for files, `errors` says where (line, column).",
    TooManyRequests => "The key's (or address's) rate limit is reached; `Retry-After` says when to retry.",
    Internal => "An internal error; the server log has the details.",
    Unavailable => "The index cannot take writes now, or the request took longer than the server's time limit.",
}

/// The answers any `/api/v1` operation may give besides its own: 429, 500 and 503.
pub(super) struct ServiceErrors;

impl IntoResponses for ServiceErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [
            ("429", TooManyRequests::response().0),
            ("500", Internal::response().0),
            ("503", Unavailable::response().0),
        ]
        .into_iter()
        .map(|(status, name)| (status.to_string(), Ref::from_response_name(name).into()))
        .collect()
    }
}

/// The document, serialised once per app.
pub(super) struct Document(String);

impl Document {
    /// Serialises the document the routes built.
    pub(super) fn new(api: &utoipa::openapi::OpenApi) -> Document {
        Document(
            api.to_pretty_json()
                .expect("the OpenAPI document serialises"),
        )
    }
}

/// The OpenAPI 3.1 document of this server
///
/// Generated from the code: every route the server answers is in it.
#[utoipa::path(
    tag = "service",
    responses((status = 200, description = "The OpenAPI document.", body = serde_json::Value))
)]
#[get("/openapi.json")]
pub(super) async fn openapi_json(doc: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}

/// Swagger UI's settings: the document of this server, and no validator badge (it would call an
/// outside service).
static SWAGGER: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        utoipa_swagger_ui::Config::new(["/openapi.json"])
            .validator_url("none")
            .persist_authorization(true),
    )
});

/// Swagger UI's page with its relative asset URLs based at `/docs/`, so that `/docs` (which the
/// app's path normalisation also reaches for `/docs/`) finds them.
static DOCS_PAGE: LazyLock<String> = LazyLock::new(|| {
    let file = utoipa_swagger_ui::serve("index.html", SWAGGER.clone())
        .ok()
        .flatten()
        .expect("swagger ui has index.html");
    String::from_utf8_lossy(&file.bytes)
        .replacen("<head>", "<head>\n    <base href=\"/docs/\">", 1)
        .replacen(
            "<title>Swagger UI</title>",
            "<title>Hexaglot API reference</title>",
            1,
        )
});

/// The API reference page
///
/// Renders `/openapi.json` with Swagger UI, whose files the server serves itself.
#[utoipa::path(
    tag = "service",
    responses((status = 200, description = "An HTML page.", body = String, content_type = "text/html"))
)]
#[get("/docs")]
pub(super) async fn docs_page() -> HttpResponse {
    docs_page_response()
}

/// A file of the API reference page
///
/// Scripts, style sheets and icons of Swagger UI, compiled into the binary.
#[utoipa::path(
    tag = "service",
    params(("file" = String, Path, description = "File name, e.g. `swagger-ui-bundle.js`.")),
    responses(
        (status = 200, description = "The file.", content(
            (String = "application/javascript"),
            (String = "text/css"),
            (String = "text/html"),
            (Vec<u8> = "image/png"),
        )),
        (status = 404, response = NotFound)
    )
)]
#[get("/docs/{file}")]
pub(super) async fn docs_asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    if file.as_str() == "index.html" {
        return Ok(docs_page_response());
    }
    match utoipa_swagger_ui::serve(&file, SWAGGER.clone()) {
        Ok(Some(found)) => {
            let mut response = HttpResponse::Ok();
            if found.gzpipped {
                response.insert_header((
                    actix_web::http::header::CONTENT_ENCODING,
                    actix_web::http::header::ContentEncoding::Gzip,
                ));
            }
            Ok(response
                .content_type(found.content_type)
                .body(found.bytes.into_owned()))
        }
        Ok(None) => Err(ApiError::not_found(format!(
            "no file {:?} in the API reference page",
            file.as_str()
        ))),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// The page, also under its file name `/docs/index.html`.
fn docs_page_response() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(DOCS_PAGE.as_str())
}

/// The bytes of an uploaded file, as raw body or multipart field (`inline(FileBody)` in a body).
pub(super) struct FileBody;

impl PartialSchema for FileBody {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .build()
            .into()
    }
}

impl ToSchema for FileBody {}

/// A multipart form whose field `file` is the file (`inline(FileForm)` in a body).
pub(super) struct FileForm;

impl PartialSchema for FileForm {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("file", FileBody::schema())
            .required("file")
            .build()
            .into()
    }
}

impl ToSchema for FileForm {}

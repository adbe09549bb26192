//! The HTTP API in process: search acceptance, auth, concepts, import, stats.

use actix_web::http::{Method, StatusCode};
use actix_web::test::{init_service, TestRequest};
use hexaglot::server::{app, ServerConfig};
use serde_json::{json, Value};

use crate::common::{enc, get, hit_ids, request, send, Fixture};

fn search_uri(q: &str, extra: &str) -> String {
    format!("/api/v1/terms/search?q={}{extra}", enc(q))
}

#[actix_web::test]
async fn translators_find_concepts_in_every_language() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    // (query, extra parameters, concept expected first)
    let cases: &[(&str, &str, &str)] = &[
        ("cybercriminalite", "", "cybercrime"),
        ("киберпреступности", "&lang=ru", "cybercrime"),
        ("الجرائم السيبرانيه", "", "cybercrime"),
        ("网络犯罪", "", "cybercrime"),
        ("ciberdelincuencia", "", "cybercrime"),
        ("CYBERCRIME", "", "cybercrime"),
        ("cyber crime", "", "cybercrime"),
        ("Hanoï", "&lang=fr", "hanoi"),
        ("hanio", "&mode=auto", "hanoi"),
        ("Генеральной Ассамблеи", "", "general-assembly"),
        ("للأمم المتحدة", "&lang=ar", "united-nations"),
        ("l’État partie", "", "state-party"),
        ("Secretary-General's", "", "secretary-general"),
        ("ＵＮＩＴＥＤ　ＮＡＴＩＯＮＳ", "", "united-nations"),
        ("signing ceremonies", "", "signing-ceremony"),
    ];
    for (q, extra, want) in cases {
        let (status, body) = get(&app, &search_uri(q, extra), None).await;
        assert_eq!(status, StatusCode::OK, "{q}: {body}");
        let ids = hit_ids(&body);
        assert_eq!(
            ids.first().map(String::as_str),
            Some(*want),
            "{q}{extra}: {ids:?}"
        );
    }
}

#[actix_web::test]
async fn hanoi_finds_the_convention_with_six_languages() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    let (status, body) = get(&app, &search_uri("Hanoi", ""), None).await;
    assert_eq!(status, StatusCode::OK);
    let ids = hit_ids(&body);
    assert_eq!(ids, ["hanoi", "hanoi-convention"], "exact term first");
    let convention = &body["hits"][1];
    let langs: Vec<&String> = convention["concept"]["languages"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(langs, ["ar", "en", "es", "fr", "ru", "zh"]);
    let matched = convention["matched"].as_array().unwrap();
    assert!(
        matched.iter().any(|m| m["lang"] == "fr"
            && m["text"] == "Convention de Hanoï"
            && m["exact"] == false),
        "{matched:?}"
    );
    assert_eq!(body["hits"][0]["matched"][0]["exact"], true);
    assert_eq!(body["total"], 2);
    assert!(body["took_ms"].as_f64().unwrap() >= 0.0);
    // exact mode: only whole terms
    let (_, body) = get(&app, &search_uri("hanoi convention", "&mode=exact"), None).await;
    assert_eq!(hit_ids(&body), ["hanoi-convention"]);
    let (_, body) = get(&app, &search_uri("Hanoi", "&mode=exact&lang=fr"), None).await;
    assert_eq!(
        hit_ids(&body),
        Vec::<String>::new(),
        "exact mode keeps diacritics"
    );
    // prefix mode: autocomplete
    let (_, body) = get(&app, &search_uri("cybersec", "&mode=prefix"), None).await;
    assert_eq!(hit_ids(&body), ["cybersecurity"]);
    let (_, body) = get(
        &app,
        &search_uri("Convention de Han", "&mode=prefix&lang=fr"),
        None,
    )
    .await;
    assert_eq!(hit_ids(&body), ["hanoi-convention"]);
    // fuzzy mode
    let (_, body) = get(&app, &search_uri("cybersecurty", "&mode=fuzzy"), None).await;
    assert_eq!(hit_ids(&body), ["cybersecurity"]);
}

#[actix_web::test]
async fn filters_targets_and_paging() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    let (_, body) = get(&app, &search_uri("Vietnam", "&status=deprecated"), None).await;
    assert_eq!(hit_ids(&body), ["viet-nam"]);
    for m in body["hits"][0]["matched"].as_array().unwrap() {
        assert_eq!(m["status"], "deprecated");
    }
    let (_, body) = get(&app, &search_uri("Vietnam", "&status=preferred"), None).await;
    assert_eq!(
        hit_ids(&body),
        Vec::<String>::new(),
        "'Vietnam' is never preferred"
    );
    let (_, body) = get(&app, &search_uri("Hanoi", "&lang=en&target=fr,zh"), None).await;
    let langs: Vec<&String> = body["hits"][0]["concept"]["languages"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(langs, ["en", "fr", "zh"]);
    let (_, body) = get(&app, &search_uri("Hanoi", "&subject=cybercrime"), None).await;
    assert_eq!(hit_ids(&body), ["hanoi-convention"]);
    let (_, all) = get(&app, &search_uri("convention", ""), None).await;
    assert!(all["total"].as_u64().unwrap() >= 2, "{all}");
    let (_, page) = get(&app, &search_uri("convention", "&limit=1&offset=1"), None).await;
    assert_eq!(hit_ids(&page), hit_ids(&all)[1..2]);
    assert_eq!(page["total"], all["total"]);
    let (_, body) = get(
        &app,
        &search_uri("convention", "&collection=nothing-here"),
        None,
    )
    .await;
    assert_eq!(body["total"], 0);
    for bad in [
        "/api/v1/terms/search",
        "/api/v1/terms/search?q=",
        "/api/v1/terms/search?q=x&mode=magic",
        "/api/v1/terms/search?q=x&limit=100000",
        "/api/v1/terms/search?q=x&status=great",
        "/api/v1/terms/search?q=x&lang=1x",
        "/api/v1/terms/search?q=x&limit=-1",
        "/api/v1/terms/search?q=x&offset=99999999999",
    ] {
        let (status, body) = get(&app, bad, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["detail"].as_str().is_some());
    }
    let long = "a".repeat(hexaglot::search::MAX_QUERY_CHARS + 1);
    let (status, _) = get(&app, &search_uri(&long, ""), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn widget(text: &str, status: &str) -> Value {
    json!({"subject": ["test"], "languages": {"en": {"terms": [{"text": text, "status": status}]}}})
}

#[actix_web::test]
async fn ranking_exact_then_analysed_then_status() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    let key = Some(fx.editor.as_str());
    for (id, text, status) in [
        ("w-analysed", "Widgets of the Assembly", "preferred"),
        ("w-deprecated", "widget", "deprecated"),
        ("w-preferred", "Widget", "preferred"),
        ("w-admitted", "WIDGET", "admitted"),
    ] {
        let uri = format!("/api/v1/concepts/{id}?collection=rank");
        let (status, _, body) = send(
            &app,
            request(Method::PUT, &uri, key, Some(widget(text, status))),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (_, body) = get(&app, &search_uri("widget", ""), None).await;
    assert_eq!(
        hit_ids(&body),
        ["w-preferred", "w-admitted", "w-deprecated", "w-analysed"]
    );
    // Chinese: a word inside a longer compound through bigrams
    let zh = json!({"languages": {"zh": {"terms": [{"text": "联合国宪章", "status": "preferred"}]},
                                   "en": {"terms": [{"text": "Charter of the United Nations", "status": "preferred"}]}}});
    let (status, _, _) = send(
        &app,
        request(
            Method::PUT,
            "/api/v1/concepts/charter?collection=rank",
            key,
            Some(zh),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, body) = get(&app, &search_uri("宪章", ""), None).await;
    assert_eq!(hit_ids(&body), ["charter"]);
    let (_, body) = get(&app, &search_uri("打击网络犯罪", "&lang=zh"), None).await;
    assert_eq!(
        hit_ids(&body),
        ["un-cybercrime-convention"],
        "a longer query does not match the shorter 网络犯罪"
    );
    // collection priority: the earlier collection ranks first
    let (_, body) = get(
        &app,
        &search_uri(
            "United Nations",
            "&collection=rank,un-cybercrime-convention&mode=exact",
        ),
        None,
    )
    .await;
    assert_eq!(hit_ids(&body), ["united-nations"]);
    let (_, body) = get(
        &app,
        &search_uri("Nations", "&collection=rank,un-cybercrime-convention"),
        None,
    )
    .await;
    assert_eq!(hit_ids(&body)[0], "charter", "{body}");
    let (_, body) = get(
        &app,
        &search_uri("Nations", "&collection=un-cybercrime-convention,rank"),
        None,
    )
    .await;
    assert_ne!(hit_ids(&body)[0], "charter");
}

#[actix_web::test]
async fn writes_need_the_right_role_and_are_visible_at_once() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    let concept = json!({"subject": ["cybercrime"], "languages": {
        "en": {"terms": [{"text": "budapest convention", "status": "preferred"}]},
        "fr-CA": {"terms": [{"text": "Convention de Budapest", "status": "preferred"}]}}});
    let uri = "/api/v1/concepts/budapest";
    let (status, headers, _) =
        send(&app, request(Method::PUT, uri, None, Some(concept.clone()))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.get("content-type").is_some());
    let (status, _, _) = send(
        &app,
        request(
            Method::PUT,
            uri,
            Some("hxk_not-a-key"),
            Some(concept.clone()),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(
        &app,
        request(Method::PUT, uri, Some(&fx.reader), Some(concept.clone())),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, headers, body) = send(
        &app,
        request(Method::PUT, uri, Some(&fx.editor), Some(concept.clone())),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["version"], 1);
    assert_eq!(body["collection"], "default");
    assert_eq!(body["languages"]["fr"]["terms"][0]["region"], "CA");
    assert_eq!(headers.get("etag").unwrap(), "\"1\"");
    // visible to the very next read
    let (_, found) = get(&app, &search_uri("budapest", ""), None).await;
    assert_eq!(hit_ids(&found), ["budapest"]);
    let (status, body) = get(&app, uri, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["languages"]["en"]["terms"][0]["text"],
        "budapest convention"
    );
    // If-Match
    let mut changed = concept.clone();
    changed["note"] = json!("Council of Europe, 2001");
    let stale = request(Method::PUT, uri, Some(&fx.editor), Some(changed.clone()))
        .insert_header(("If-Match", "\"7\""));
    let (status, _, body) = send(&app, stale).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    let fresh = request(Method::PUT, uri, Some(&fx.editor), Some(changed.clone()))
        .insert_header(("If-Match", "\"1\""));
    let (status, _, body) = send(&app, fresh).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["version"], 2);
    assert_eq!(body["note"], "Council of Europe, 2001");
    // the same content again does not bump the version
    let (_, _, body) = send(
        &app,
        request(Method::PUT, uri, Some(&fx.editor), Some(changed)),
    )
    .await;
    assert_eq!(body["version"], 2);
    // POST creates with a generated id
    let (status, headers, body) = send(
        &app,
        request(
            Method::POST,
            "/api/v1/concepts?collection=mine",
            Some(&fx.editor),
            Some(widget("gadget", "preferred")),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let location = headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let id = body["id"].as_str().unwrap();
    assert!(
        location.starts_with(&format!("/api/v1/concepts/{id}")),
        "{location}"
    );
    let (status, fetched) = get(&app, &location, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["collection"], "mine");
    let mut dup = widget("gadget", "preferred");
    dup["id"] = json!(id);
    let (status, _, _) = send(
        &app,
        request(
            Method::POST,
            "/api/v1/concepts?collection=mine",
            Some(&fx.editor),
            Some(dup),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // DELETE
    let (status, _, _) = send(&app, request(Method::DELETE, uri, Some(&fx.reader), None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = send(&app, request(Method::DELETE, uri, Some(&fx.editor), None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = send(&app, request(Method::DELETE, uri, Some(&fx.editor), None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, found) = get(&app, &search_uri("budapest", ""), None).await;
    assert_eq!(found["total"], 0);
    // invalid bodies
    let bad = TestRequest::default()
        .method(Method::PUT)
        .uri("/api/v1/concepts/x")
        .insert_header(("Authorization", format!("Bearer {}", fx.editor)))
        .insert_header(("content-type", "application/json"))
        .set_payload("{not json");
    let (status, _, _) = send(&app, bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, body) = send(
        &app,
        request(
            Method::PUT,
            "/api/v1/concepts/x",
            Some(&fx.editor),
            Some(json!({"languages": {}})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _, _) = send(
        &app,
        request(
            Method::PUT,
            "/api/v1/concepts/x",
            Some(&fx.editor),
            Some(json!({"languages": {"x!": {"terms": [{"text": "a"}]}}})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = get(&app, "/api/v1/nowhere", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], 404);
}

#[actix_web::test]
async fn anonymous_read_can_be_switched_off() {
    let fx = Fixture::with_config(ServerConfig {
        require_auth: true,
        ..ServerConfig::default()
    });
    let app = init_service(app(fx.state.clone())).await;
    let (status, _) = get(&app, &search_uri("Hanoi", ""), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = get(&app, &search_uri("Hanoi", ""), Some(&fx.reader)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&app, "/healthz", None).await;
    assert_eq!(status, StatusCode::OK, "health checks need no key");
    // a key revoked through another handle (as the CLI does) stops working at once
    let cli_keys = hexaglot::auth::KeyStore::open(fx.path()).unwrap();
    cli_keys.revoke("reader").unwrap();
    let (status, _) = get(&app, &search_uri("Hanoi", ""), Some(&fx.reader)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

fn import_req(uri: &str, key: &str, body: &[u8]) -> TestRequest {
    TestRequest::default()
        .method(Method::POST)
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {key}")))
        .set_payload(body.to_vec())
}

#[actix_web::test]
async fn csv_import_is_atomic_idempotent_and_scoped_to_its_collection() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    let fr = std::fs::read(crate::common::corpus("glossary-csv/tico19/f_en-fr_XX.csv")).unwrap();
    let uri = "/api/v1/import?format=csv&collection=tico19";
    let (status, _, _) = send(&app, import_req(uri, &fx.editor, &fr)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "import needs admin");
    // dry run changes nothing
    let (status, _, body) = send(
        &app,
        import_req(&format!("{uri}&dry_run=true"), &fx.admin, &fr),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let would_add = body["concepts"]["added"].as_u64().unwrap();
    assert!(would_add > 250, "{body}");
    let (_, stats) = get(&app, "/api/v1/stats?collection=tico19", None).await;
    assert_eq!(stats["concepts"], 0);
    let (status, _, body) = send(&app, import_req(uri, &fx.admin, &fr)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["format"], "csv");
    assert_eq!(body["concepts"]["added"].as_u64(), Some(would_add));
    // the same file twice adds nothing
    let (_, _, again) = send(&app, import_req(uri, &fx.admin, &fr)).await;
    assert_eq!(again["concepts"]["added"], 0);
    assert_eq!(again["concepts"]["updated"], 0);
    assert_eq!(again["concepts"]["unchanged"].as_u64(), Some(would_add));
    // a second language merges into the same concepts by id (format detected from content)
    let ru = std::fs::read(crate::common::corpus("glossary-csv/tico19/f_en-ru_RU.csv")).unwrap();
    let (status, _, body) = send(
        &app,
        import_req("/api/v1/import?collection=tico19", &fx.admin, &ru),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["concepts"]["added"], 0, "{body}");
    let (_, hit) = get(
        &app,
        &search_uri("острый бронхит", "&collection=tico19"),
        None,
    )
    .await;
    let langs = hit["hits"][0]["concept"]["languages"].as_object().unwrap();
    assert!(
        langs.contains_key("fr") && langs.contains_key("ru") && langs.contains_key("en"),
        "{hit}"
    );
    let (_, stats) = get(&app, "/api/v1/stats", None).await;
    let sample_concepts = 54; // the two shipped glossaries
    assert_eq!(
        stats["concepts"].as_u64(),
        Some(sample_concepts + would_add)
    );
    // a malformed file: 422 with line and column, nothing changed
    let bad = "concept_id\tlang\tterm\tstatus\nc1\ten\tgood term\tpreferred\nc2\ten\tbad term\tsplendid\n";
    let (status, headers, body) = send(
        &app,
        import_req(
            "/api/v1/import?format=tsv&collection=tico19",
            &fx.admin,
            bad.as_bytes(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        headers.get("content-type").unwrap(),
        "application/problem+json"
    );
    assert_eq!(body["errors"][0]["line"], 3);
    assert_eq!(body["errors"][0]["column"], 4);
    assert!(
        body["errors"][0].get("path").is_none(),
        "a TSV has no element path"
    );
    let (_, after) = get(&app, "/api/v1/stats", None).await;
    assert_eq!(after, stats, "a rejected file changes nothing");
    // replace mode replaces this collection only
    let small = "concept_id\tlang\tterm\tstatus\nonly\ten\tsole survivor\tpreferred\n";
    let (status, _, body) = send(
        &app,
        import_req(
            "/api/v1/import?format=tsv&collection=tico19&mode=replace",
            &fx.admin,
            small.as_bytes(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["concepts"]["added"], 1);
    assert_eq!(body["concepts"]["removed"].as_u64(), Some(would_add));
    let (_, collections) = get(&app, "/api/v1/collections", None).await;
    assert_eq!(
        collections,
        json!([{"name": "tico19", "concepts": 1, "units": 0}, {"name": "un-cybercrime-convention", "concepts": 27, "units": 0}, {"name": "un-general-terms", "concepts": 27, "units": 0}])
    );
    // multipart upload, format from the file name
    let boundary = "XyZ";
    let multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"terms.tsv\"\r\nContent-Type: application/octet-stream\r\n\r\nconcept_id\tlang\tterm\nm1\tfr\tmultipart réussi\r\n--{boundary}--\r\n"
    );
    let req = import_req(
        "/api/v1/import?collection=upload",
        &fx.admin,
        multipart.as_bytes(),
    )
    .insert_header((
        "content-type",
        format!("multipart/form-data; boundary={boundary}"),
    ));
    let (status, _, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["format"], "tsv");
    let (_, hit) = get(&app, &search_uri("multipart reussi", ""), None).await;
    assert_eq!(hit_ids(&hit), ["m1"]);
    // deleting a collection
    let (status, _, _) = send(
        &app,
        request(
            Method::DELETE,
            "/api/v1/collections/upload",
            Some(&fx.editor),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = send(
        &app,
        request(
            Method::DELETE,
            "/api/v1/collections/upload",
            Some(&fx.admin),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, hit) = get(&app, &search_uri("multipart reussi", ""), None).await;
    assert_eq!(hit["total"], 0);
    let (status, _, _) = send(
        &app,
        request(
            Method::DELETE,
            "/api/v1/collections/upload",
            Some(&fx.admin),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn import_body_limit_is_enforced() {
    let fx = Fixture::with_config(ServerConfig {
        max_import_bytes: 1000,
        ..ServerConfig::default()
    });
    let app = init_service(app(fx.state.clone())).await;
    let big = "en,fr\n".to_string() + &"hello,bonjour\n".repeat(200);
    let (status, _, _) = send(
        &app,
        import_req("/api/v1/import?format=csv", &fx.admin, big.as_bytes()),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[actix_web::test]
async fn stats_count_the_sample_glossary() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    let (status, body) = get(&app, "/api/v1/stats", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["concepts"], 54);
    assert_eq!(body["terms"], 415);
    assert_eq!(body["units"], 0);
    let sum: u64 = body["languages"]
        .as_object()
        .unwrap()
        .values()
        .map(|l| l["terms"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 415);
    assert_eq!(body["languages"]["fr"]["terms"], 76);
    let (_, page) = get(&app, "/", None).await;
    assert!(
        page.as_str().unwrap().contains("<html"),
        "the web page is served at /"
    );
}

#[actix_web::test]
async fn tbx_files_import_through_the_api() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    let ibm = std::fs::read(crate::common::corpus("tbx/okapi-ibm.tbx")).unwrap();
    // format from the content
    let (status, _, body) = send(
        &app,
        import_req("/api/v1/import?collection=ibm", &fx.admin, &ibm),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["format"], "tbx");
    let added = body["concepts"]["added"].as_u64().unwrap();
    assert!(added > 0);
    assert!(
        !body["warnings"].as_array().unwrap().is_empty(),
        "unknown categories are reported"
    );
    let (_, _, again) = send(
        &app,
        import_req("/api/v1/import?collection=ibm&format=tbx", &fx.admin, &ibm),
    )
    .await;
    assert_eq!(again["concepts"]["added"], 0);
    assert_eq!(again["concepts"]["unchanged"].as_u64(), Some(added));
    let (_, hit) = get(
        &app,
        &search_uri("historiques de navigation", "&lang=fr"),
        None,
    )
    .await;
    assert_eq!(hit_ids(&hit), ["c1"]);
    assert_eq!(hit["hits"][0]["concept"]["collection"], "ibm");
    // a malformed TBX: 422 with line and column, nothing imported
    let bad = b"<?xml version=\"1.0\"?>\n<martif type=\"TBX\">\n<text><body>\n<termEntry id=\"x\"><langSet xml:lang=\"en\"><tig><term>ok</term></tig></langSet>\n</body></text></martif>\n";
    let (status, _, body) = send(
        &app,
        import_req("/api/v1/import?collection=bad&format=tbx", &fx.admin, bad),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["errors"][0]["line"].as_u64().unwrap() >= 4, "{body}");
    assert_eq!(
        body["errors"][0]["path"], "/martif/text/body/termEntry",
        "the elements open where the file goes wrong: {body}"
    );
    let (_, collections) = get(&app, "/api/v1/collections", None).await;
    assert!(!collections.to_string().contains("\"bad\""));
}

async fn body_text<S, B>(app: &S, uri: &str, key: &str) -> (StatusCode, String)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let req = request(Method::GET, uri, Some(key), None).to_request();
    let resp = actix_web::test::call_service(app, req).await;
    let status = resp.status();
    let bytes = actix_web::test::read_body(resp).await;
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

/// A concept without what an export may not carry over (collection, version, time).
fn content(mut c: hexaglot::model::Concept) -> hexaglot::model::Concept {
    c.collection = String::new();
    c.version = 0;
    c.updated_at = String::new();
    c
}

#[actix_web::test]
async fn exports_round_trip_through_import() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    // a concept with every field the model holds, regions and all five statuses
    let full = json!({"subject": ["cybercrime", "treaty-law"], "note": "concept note, with \"quotes\" & <angles>",
        "languages": {
            "en": {"definition": "A treaty on crime, signed in Hanoi.", "terms": [
                {"text": "Test Convention", "status": "preferred", "pos": "noun", "gender": "neuter", "type": "fullForm", "note": "a note", "source": "UNTERM"},
                {"text": "TC", "status": "admitted", "type": "abbreviation"},
                {"text": "old name", "status": "superseded"},
                {"text": "bad name", "status": "forbidden"}]},
            "fr-CA": {"terms": [{"text": "Convention d’essai", "status": "preferred", "gender": "feminine"}]},
            "fr": {"terms": [{"text": "convention test", "status": "deprecated"}]}}});
    let (status, _, _) = send(
        &app,
        request(
            Method::PUT,
            "/api/v1/concepts/full?collection=un-cybercrime-convention",
            Some(&fx.editor),
            Some(full),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let source: Vec<_> = fx
        .state
        .store
        .concepts_in("un-cybercrime-convention")
        .unwrap();
    assert_eq!(source.len(), 28);
    let (status, _) = body_text(&app, "/api/v1/export?format=tbx", &fx.editor).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for format in ["tbx", "tbx-v2", "csv"] {
        let (status, text) = body_text(
            &app,
            &format!("/api/v1/export?format={format}&collection=un-cybercrime-convention"),
            &fx.admin,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{format}: {text}");
        assert!(text.contains("Convention de Hanoï"), "{format}");
        let target = format!("rt-{format}");
        let import_format = if format == "csv" { "csv" } else { "tbx" };
        let (status, _, report) = send(
            &app,
            import_req(
                &format!("/api/v1/import?format={import_format}&collection={target}"),
                &fx.admin,
                text.as_bytes(),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{format}: {report}");
        assert_eq!(report["concepts"]["added"], 28, "{format}: {report}");
        let mut back: Vec<_> = fx
            .state
            .store
            .concepts_in(&target)
            .unwrap()
            .into_iter()
            .map(content)
            .collect();
        let mut want: Vec<_> = source.iter().cloned().map(content).collect();
        back.sort_by(|a, b| a.id.cmp(&b.id));
        want.sort_by(|a, b| a.id.cmp(&b.id));
        for (a, b) in want.iter().zip(&back) {
            assert_eq!(a, b, "{format}: {} changed in the round trip", a.id);
        }
        assert_eq!(back.len(), want.len());
    }
    // filters: one language, one subject
    let (_, text) = body_text(
        &app,
        "/api/v1/export?format=csv&lang=fr&subject=event",
        &fx.admin,
    )
    .await;
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r.contains(",fr,") || r.contains(",fr-")),
        "{text}"
    );
    assert!(
        text.contains("cérémonie de signature") && !text.contains("Hanoï"),
        "{text}"
    );
    let (status, _) = body_text(&app, "/api/v1/export?format=pdf", &fx.admin).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// `hit` or `miss`: whether a search came from the response cache.
fn cache_of(headers: &actix_web::http::header::HeaderMap) -> String {
    headers
        .get("x-cache")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

#[actix_web::test]
async fn a_commit_answers_the_cached_searches_again_before_readers_see_it() {
    let fx = Fixture::new();
    fx.state.warm_search_cache_on_commit();
    let app = init_service(app(fx.state.clone())).await;
    let asked = search_uri("budapest", "&limit=5");
    let other = search_uri("Hanoi", "");
    let (_, headers, before) = send(&app, request(Method::GET, &asked, None, None)).await;
    assert_eq!(cache_of(&headers), "miss");
    assert_eq!(before["total"], 0);
    // a write: the cached query was answered again on the new commit, so the first search after
    // the write is a hit, and it already sees the write
    let concept = json!({"languages": {"en": {"terms": [{"text": "Budapest Convention"}]}}});
    let (status, _, _) = send(
        &app,
        request(
            Method::PUT,
            "/api/v1/concepts/budapest",
            Some(&fx.editor),
            Some(concept),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, headers, after) = send(&app, request(Method::GET, &asked, None, None)).await;
    assert_eq!(cache_of(&headers), "hit");
    assert_eq!(hit_ids(&after), ["budapest"]);
    // a query that was never asked is searched when asked
    let (_, headers, hanoi) = send(&app, request(Method::GET, &other, None, None)).await;
    assert_eq!(cache_of(&headers), "miss");
    assert!(hanoi["total"].as_u64().unwrap() > 0, "{hanoi}");
    let (status, _, _) = send(
        &app,
        request(
            Method::DELETE,
            "/api/v1/concepts/budapest",
            Some(&fx.editor),
            None,
        ),
    )
    .await;
    assert!(status.is_success(), "{status}");
    for uri in [&asked, &other] {
        let (_, headers, _) = send(&app, request(Method::GET, uri, None, None)).await;
        assert_eq!(cache_of(&headers), "hit", "{uri}");
    }
    let (_, _, gone) = send(&app, request(Method::GET, &asked, None, None)).await;
    assert_eq!(gone["total"], 0);
    let (_, metrics) = get(&app, "/metrics", None).await;
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("hexaglot_search_cache_warmed_total 3"),
        "{metrics}"
    );
}

#[actix_web::test]
async fn repeated_searches_come_from_the_cache_until_the_next_write() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    let uri = search_uri("budapest", "&limit=5");
    let (status, headers, first) = send(&app, request(Method::GET, &uri, None, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cache_of(&headers), "miss");
    assert_eq!(first["total"], 0);
    let (_, headers, again) = send(&app, request(Method::GET, &uri, None, None)).await;
    assert_eq!(cache_of(&headers), "hit");
    assert_eq!(again, first);
    // a write makes a new commit: the next search sees it
    let concept = json!({"languages": {"en": {"terms": [{"text": "Budapest Convention"}]}}});
    let (status, _, _) = send(
        &app,
        request(
            Method::PUT,
            "/api/v1/concepts/budapest",
            Some(&fx.editor),
            Some(concept),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, headers, after) = send(&app, request(Method::GET, &uri, None, None)).await;
    assert_eq!(cache_of(&headers), "miss");
    assert_eq!(hit_ids(&after), ["budapest"]);
    let (_, headers, _) = send(&app, request(Method::GET, &uri, None, None)).await;
    assert_eq!(cache_of(&headers), "hit");
    let (status, _, _) = send(
        &app,
        request(
            Method::DELETE,
            "/api/v1/concepts/budapest",
            Some(&fx.editor),
            None,
        ),
    )
    .await;
    assert!(status.is_success(), "{status}");
    let (_, gone) = get(&app, &uri, None).await;
    assert_eq!(gone["total"], 0);
    // other parameters are another query
    let (_, headers, _) = send(
        &app,
        request(Method::GET, &uri.replace("limit=5", "limit=6"), None, None),
    )
    .await;
    assert_eq!(cache_of(&headers), "miss");
    // and the cache can be turned off
    let off = Fixture::with_config(ServerConfig {
        search_cache_entries: 0,
        ..ServerConfig::default()
    });
    let uncached = init_service(hexaglot::server::app(off.state.clone())).await;
    for _ in 0..2 {
        let (_, headers, _) = send(&uncached, request(Method::GET, &uri, None, None)).await;
        assert_eq!(cache_of(&headers), "miss");
    }
    let (_, metrics) = get(&uncached, "/metrics", None).await;
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("hexaglot_search_cache_lookups_total{result=\"hit\"} 0"),
        "{metrics}"
    );
}

//! Crash safety with the real binary: killed with SIGKILL at random moments during imports and
//! single writes, 20 times over one data directory, it reopens every time with every acknowledged
//! write and no half-applied import; stopped with SIGTERM, it finishes the request in flight.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::common::{add_key, start};

const KILLS: usize = 20;
/// Concepts in each bulk import (big enough to take a while in a debug build).
const BULK: usize = 1500;
/// Units in each TMX import.
const UNITS: usize = 400;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// `(status, body)`, or `None` when the connection failed (the server was killed).
fn send(method: &str, url: &str, key: &str, body: Option<(&str, Vec<u8>)>) -> Option<(u16, Value)> {
    let agent = agent();
    let result = match (method, body) {
        ("GET", _) => agent
            .get(url)
            .header("Authorization", &format!("Bearer {key}"))
            .call(),
        (_, Some((content_type, bytes))) => {
            let req = if method == "PUT" {
                agent.put(url)
            } else {
                agent.post(url)
            };
            req.header("Authorization", &format!("Bearer {key}"))
                .header("Content-Type", content_type)
                .send(&bytes[..])
        }
        _ => unreachable!(),
    };
    let mut resp = result.ok()?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().ok()?;
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

fn bulk_tsv(round: usize) -> Vec<u8> {
    let mut tsv = String::from("concept_id\tlang\tterm\tstatus\n");
    for i in 0..BULK {
        tsv.push_str(&format!(
            "r{round}-c{i}\ten\tround {round} term number {i}\tpreferred\n"
        ));
        tsv.push_str(&format!(
            "r{round}-c{i}\tfr\tterme {i} du tour {round}\tadmitted\n"
        ));
    }
    tsv.into_bytes()
}

fn bulk_tmx(round: usize) -> Vec<u8> {
    let mut tmx = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tmx version=\"1.4\"><header srclang=\"en\" \
         datatype=\"plaintext\" segtype=\"sentence\" adminlang=\"en\" o-tmf=\"test\" \
         creationtool=\"test\" creationtoolversion=\"1\"/><body>\n",
    );
    for i in 0..UNITS {
        tmx.push_str(&format!(
            "<tu><tuv xml:lang=\"en\"><seg>Round {round}, sentence {i} of the memory.</seg></tuv>\
             <tuv xml:lang=\"fr\"><seg>Tour {round}, phrase {i} de la mémoire.</seg></tuv></tu>\n"
        ));
    }
    tmx.push_str("</body></tmx>\n");
    tmx.into_bytes()
}

/// Concept count of a collection and unit count of a TM collection, from `/api/v1/stats`.
fn counts(base: &str, key: &str, collection: &str) -> (u64, u64) {
    let url = format!("{base}/api/v1/stats?collection={collection}");
    let (status, body) = send("GET", &url, key, None).expect("stats answered");
    assert_eq!(status, 200, "{body}");
    (
        body["concepts"].as_u64().unwrap_or(0),
        body["units"].as_u64().unwrap_or(0),
    )
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_write_and_no_import_is_half_applied() {
    let seed: u64 = std::env::var("HEXAGLOT_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            now.map_or(0, |d| d.as_nanos() as u64) ^ u64::from(std::process::id())
        });
    eprintln!("crash test seed {seed} (HEXAGLOT_CRASH_SEED={seed} repeats it)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let key = add_key(dir.path(), "admin", "crash");
    // acknowledged single writes: id -> text
    let acked: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    // imports by collection: acknowledged or not
    let mut imports: Vec<(String, u64, bool, bool)> = Vec::new(); // (collection, size, tm, acked)
    let mut interrupted = 0;
    for round in 0..KILLS {
        let server = start(dir.path(), &[]);
        let base = server.base.clone();
        // a bulk import (glossary or memory, alternately) and a stream of single writes
        let tm = round % 2 == 1;
        let collection = format!("bulk-{round}");
        let (format, content_type, file, size) = if tm {
            (
                "tmx",
                "application/x-tmx+xml",
                bulk_tmx(round),
                UNITS as u64,
            )
        } else {
            (
                "tsv",
                "text/tab-separated-values",
                bulk_tsv(round),
                BULK as u64,
            )
        };
        let import = {
            let (base, key, collection) = (base.clone(), key.clone(), collection.clone());
            std::thread::spawn(move || {
                let url = format!("{base}/api/v1/import?format={format}&collection={collection}");
                matches!(
                    send("POST", &url, &key, Some((content_type, file))),
                    Some((200, _))
                )
            })
        };
        let writes = {
            let (base, key, acked) = (base.clone(), key.clone(), acked.clone());
            std::thread::spawn(move || {
                for i in 0.. {
                    let id = format!("w{round}-{i}");
                    let text = format!("single write {round} {i}");
                    let body = json!({"languages": {"en": {"terms": [{"text": text, "status": "preferred"}]}}});
                    let url = format!("{base}/api/v1/concepts/{id}?collection=singles");
                    match send(
                        "PUT",
                        &url,
                        &key,
                        Some(("application/json", body.to_string().into_bytes())),
                    ) {
                        Some((201 | 200, _)) => {
                            acked.lock().unwrap().insert(id, text);
                        }
                        Some((status, body)) => panic!("PUT {id}: {status} {body}"),
                        None => break, // killed
                    }
                }
            })
        };
        std::thread::sleep(Duration::from_millis(rng.random_range(30..2500)));
        drop(server); // SIGKILL
        let import_acked = import.join().unwrap();
        writes.join().unwrap();
        interrupted += usize::from(!import_acked);
        imports.push((collection, size, tm, import_acked));

        // reopen and check everything so far
        let server = start(dir.path(), &[]);
        let (status, _) = send("GET", &format!("{}/healthz", server.base), &key, None).unwrap();
        assert_eq!(status, 200);
        for (collection, size, tm, acked) in &imports {
            let (concepts, units) = counts(&server.base, &key, collection);
            let n = if *tm { units } else { concepts };
            assert!(
                n == 0 || n == *size,
                "round {round}: {collection} holds {n} of {size}"
            );
            if *acked {
                assert_eq!(
                    n, *size,
                    "round {round}: acknowledged import {collection} lost"
                );
            }
        }
        let acked = acked.lock().unwrap().clone();
        let (singles, _) = counts(&server.base, &key, "singles");
        assert!(
            singles >= acked.len() as u64,
            "round {round}: {singles} < {}",
            acked.len()
        );
        for (id, text) in acked.iter().rev().take(25) {
            let url = format!("{}/api/v1/concepts/{id}?collection=singles", server.base);
            let (status, body) = send("GET", &url, &key, None).unwrap();
            assert_eq!(status, 200, "round {round}: acknowledged {id} lost");
            assert_eq!(body["languages"]["en"]["terms"][0]["text"], text.as_str());
        }
    }
    let acked = acked.lock().unwrap();
    eprintln!(
        "{KILLS} kills: {} acknowledged single writes kept, {interrupted} imports cut off and absent, {} complete",
        acked.len(),
        KILLS - interrupted
    );
    assert!(acked.len() > KILLS, "too few writes to mean anything");
}

#[test]
fn sigterm_finishes_the_import_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let key = add_key(dir.path(), "admin", "crash");
    let mut server = start(dir.path(), &[]);
    let base = server.base.clone();
    let import = {
        let (base, key) = (base.clone(), key.clone());
        std::thread::spawn(move || {
            let url = format!("{base}/api/v1/import?format=tsv&collection=term");
            send(
                "POST",
                &url,
                &key,
                Some(("text/tab-separated-values", bulk_tsv(0))),
            )
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.child.wait().unwrap();
    let answer = import.join().unwrap();
    assert!(exit.success(), "exit after SIGTERM: {exit:?}");
    let (status, body) = answer.expect("the import in flight was answered");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["concepts"]["added"], BULK as u64);
    let server = start(dir.path(), &[]);
    assert_eq!(counts(&server.base, &key, "term").0, BULK as u64);
}

//! An independent TBX reader (translate-toolkit, from PyPI) reads our TBX v2 export.
//! `.ci/run` installs it; without it this test fails and says how to install it.

use std::collections::BTreeMap;
use std::process::Command;

use hexaglot::formats::export::{ExportFilter, ExportFormat};

use crate::common::{repo, Fixture};

#[test]
fn translate_toolkit_reads_the_tbx_v2_export() {
    let fx = Fixture::new();
    let out = fx.path().join("export.tbx");
    let file = std::fs::File::create(&out).unwrap();
    let n = hexaglot::export::export(
        &fx.state.store,
        &[],
        ExportFormat::TbxV2,
        &ExportFilter::default(),
        file,
    )
    .unwrap();
    assert_eq!(n, 54);
    let mut expected: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    fx.state
        .store
        .for_each_concept(&[], |c| -> Result<(), hexaglot::store::StoreError> {
            let langs = expected.entry(c.id.clone()).or_default();
            for (lang, t) in c.terms() {
                langs
                    .entry(lang.to_string())
                    .or_default()
                    .push(t.text.clone());
            }
            Ok(())
        })
        .unwrap();
    let expected_path = fx.path().join("expected.json");
    std::fs::write(&expected_path, serde_json::to_string(&expected).unwrap()).unwrap();
    let run = Command::new("python3")
        .arg(repo().join("scripts/tbx_interop.py"))
        .arg(&out)
        .arg(&expected_path)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        !stderr.contains("No module named 'translate'"),
        "translate-toolkit is missing: pip install translate-toolkit (bash .ci/run does)"
    );
    assert!(run.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("read 54 concepts, 415 terms; 0 problems"),
        "{stdout}"
    );
}

//! What the benches share: the UN Parallel Corpus v1.0 development set (Ziemski,
//! Junczys-Dowmunt and Pouliquen, 2016; `../shared/corpora/unpc-devset`).

/// The 4,000 devset lines of one language (`ar`, `zh`, `en`, `fr`, `ru`, `es`).
pub fn devset(lang: &str) -> Vec<String> {
    let path = format!(
        "{}/../shared/corpora/unpc-devset/UNv1.0.devset.{lang}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .map(str::to_string)
        .collect()
}

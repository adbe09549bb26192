//! Prints the analysis of a text: `cargo run --example analyze -- fr "Convention de Hanoï"`.
use hexaglot::lang::{analyze, zh_bigrams, LangTag};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tag = LangTag::parse(&args[0]).expect("language tag");
    for text in &args[1..] {
        for t in analyze(tag.lang, text) {
            println!("{}..{}\t{}\t{}\t{:?}", t.start, t.end, t.norm, t.key, t.alt);
        }
        if tag.lang == hexaglot::lang::Lang::Zh {
            let b: Vec<String> = zh_bigrams(text).into_iter().map(|t| t.key).collect();
            println!("bigrams: {b:?}");
        }
        println!("--");
    }
}

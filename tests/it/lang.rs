//! The analysis pipeline of each UN language on real UN text.
//!
//! Every case takes a form exactly as it occurs in the UN Parallel Corpus devset (checked by
//! `forms_occur_in_the_devset`) and a query form, and says how their search keys relate.
//!
//! The devset is from the United Nations Parallel Corpus v1.0, source: the United Nations.
//! Ziemski, M., Junczys-Dowmunt, M., and Pouliquen, B. (2016), The United Nations Parallel
//! Corpus, Language Resources and Evaluation (LREC'16), Portorož, Slovenia, May 2016.
//! It is read from `../shared/corpora/unpc-devset/` and not shipped with the crate.

use hexaglot::lang::{analyze, zh_bigrams, LangTag, Token};
use unicode_normalization::UnicodeNormalization;

/// How the keys of the devset form relate to the keys of the query.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Same number of tokens, and each pair shares a key: the query finds the form.
    Same,
    /// The query must not find the form: distinct words do not collapse.
    Differ,
    /// The query's tokens match a run of adjacent tokens of the form (a phrase query).
    Within,
    /// As `Within`, on the Chinese character bigrams of both.
    Bigrams,
}

use Expect::{Bigrams, Differ, Same, Within};

/// The languages of the devset, in UN order.
const LANGS: [&str; 6] = ["ar", "zh", "en", "fr", "ru", "es"];

/// The devset files, one per language: append the language code.
const DEVSET: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpora/unpc-devset/UNv1.0.devset."
);

/// (language, form as it occurs in the devset, query, expectation).
///
/// Arabic forms write their harakat as escapes, in the devset's order: the devset often puts shadda
/// before the vowel (`U+0651 U+0650`), which is not the canonical order.
const CASES: &[(&str, &str, &str, Expect)] = &[
    // Arabic: harakat (in the devset's order), tanwin, shadda, sukun; tatweel; hamza, madda and
    // wasla on alef; alef maqsura; ta marbuta; digits; the proclitics و and ال, بال, لل
    ("ar", "المخد\u{651}\u{650}رات", "المخدرات", Same),
    ("ar", "بالمخد\u{651}\u{650}رات", "مخدرات", Same),
    ("ar", "دولي\u{651}\u{64B}ا", "دوليا", Same),
    ("ar", "أيضا\u{64B}", "ايضا", Same),
    ("ar", "ع\u{64F}قدت", "عقدت", Same),
    ("ar", "فه\u{652}منا", "فهمنا", Same),
    ("ar", "المنظ\u{651}\u{64E}مة", "منظمه", Same),
    ("ar", "والنـزاعات", "النزاعات", Same),
    ("ar", "وفقــا\u{64B}", "وفقا", Same),
    ("ar", "معايـير", "معايير", Same),
    ("ar", "٢٠١٥", "2015", Same),
    ("ar", "٢٠١٥", "۲۰۱۵", Same),
    ("ar", "للأمم المتحدة", "الامم المتحده", Same),
    ("ar", "إصلاح", "اصلاح", Same),
    ("ar", "آثار", "اثار", Same),
    ("ar", "مستوى", "مستوي", Same),
    // queries with alef wasla, superscript alef, presentation forms (NFKC)
    ("ar", "استخدام", "ٱستخدام", Same),
    ("ar", "هذه", "ه\u{670}ذه", Same),
    ("ar", "السلام", "ﺍﻟﺴﻼﻡ", Same),
    // peace and Islam; world and science
    ("ar", "السلام", "الإسلام", Differ),
    ("ar", "العالم", "العلم", Differ),
    // Chinese
    ("zh", "联合国宪章", "宪章", Bigrams),
    ("zh", "预测网络犯罪", "网络犯罪", Bigrams),
    ("zh", "联合国会员国", "会员国", Bigrams),
    ("zh", "可持续发展目标", "可持续发展", Bigrams),
    ("zh", "恐怖主义战斗人员", "战斗人员", Bigrams),
    ("zh", "联合国气候变化框架公约", "气候变化", Bigrams),
    ("zh", "毒品和犯罪问题办公室", "犯罪问题", Bigrams),
    ("zh", "《联合国宪章》", "宪章", Within),
    ("zh", "预测网络犯罪和贩运", "网络犯罪", Within),
    ("zh", "秘书长指出", "秘书长", Within),
    ("zh", "可持续发展目标", "可持续发展", Within),
    ("zh", "毒品和犯罪问题办公室", "办公室", Within),
    ("zh", "2015年", "２０１５年", Same), // full-width digits
    ("zh", "0.4％", "０．４%", Same),     // full-width decimal point and percent sign
    ("zh", "DLDD", "ｄｌｄｄ", Same),     // full-width letters, case
    ("zh", "《宪章》", "宪章", Same),
    ("zh", "犯罪", "罪犯", Differ), // crime, criminal
    // English
    ("en", "women's", "women", Same),
    ("en", "Women's", "WOMEN", Same),
    ("en", "country's", "countries", Same),
    ("en", "Government's", "governments", Same),
    ("en", "Committee's", "committee’s", Same), // typographic apostrophe
    ("en", "States'", "state", Same),
    ("en", "peoples'", "people", Same),
    ("en", "Organization's", "organizations", Same),
    ("en", "Secretary-General's", "secretary general", Same),
    ("en", "Member States", "member state", Same),
    ("en", "human rights", "Human Right", Same),
    ("en", "General Assembly", "general assemblies", Same),
    ("en", "negotiations", "negotiating", Same),
    ("en", "United Nations", "UNITED NATIONS", Same),
    ("en", "Côte d'Ivoire", "cote d’ivoire", Same),
    ("en", "financial", "ﬁnancial", Same), // fi ligature (NFKC)
    ("en", "km²", "km2", Same),
    ("en", "cybercrime", "cybercrimes", Same),
    ("en", "policy", "police", Differ),
    ("en", "news", "new", Differ),
    // French
    ("fr", "l'Organisation", "organisations", Same),
    ("fr", "l’armée", "armées", Same),
    ("fr", "L’analyse", "analyses", Same),
    ("fr", "d’attaques", "attaque", Same),
    ("fr", "qu’entre", "entre", Same),
    ("fr", "jusqu’à", "à", Same),
    ("fr", "jusqu'aux", "aux", Same),
    ("fr", "lorsqu'elles", "elle", Same),
    ("fr", "puisqu'une", "une", Same),
    ("fr", "lorsqu'il", "quoiqu’il", Same),
    ("fr", "n'ont", "ont", Same),
    ("fr", "c'est", "est", Same),
    ("fr", "l’hôpital", "hopitaux", Same),
    ("fr", "Hanoï", "hanoi", Same),
    ("fr", "Hanoï", "HANOÏ", Same),
    ("fr", "États", "etat", Same),
    ("fr", "États", "E\u{301}tats", Same), // decomposed accent in the query
    ("fr", "CONFÉRENCE", "conférences", Same),
    ("fr", "cybercriminalité", "CYBERCRIMINALITÉ", Same),
    ("fr", "cybercriminalité", "cybercriminalite", Same),
    ("fr", "politique", "police", Differ),
    ("fr", "paix", "pays", Differ),
    // Russian
    ("ru", "киберпреступностью", "киберпреступность", Same),
    ("ru", "путём", "путем", Same),
    ("ru", "напряжённости", "напряженность", Same),
    ("ru", "своё", "свое", Same),
    ("ru", "Тёркс", "Теркс", Same),
    ("ru", "временны\u{301}х", "временные", Same), // stress mark
    ("ru", "ООН", "оон", Same),
    (
        "ru",
        "Организации Объединенных Наций",
        "организация объединённых наций",
        Same,
    ),
    ("ru", "государств-членов", "государства-члены", Same),
    ("ru", "правительствами", "правительство", Same),
    ("ru", "чрезвычайной", "чрезвычайная", Same),
    ("ru", "Совета Безопасности", "совет безопасности", Same),
    ("ru", "конвенции", "КОНВЕНЦИЯ", Same),
    ("ru", "правами человека", "права человека", Same),
    ("ru", "Ассамблеи", "Ассамблее", Same),
    ("ru", "Генеральной Ассамблеи", "Генеральная Ассамблея", Same),
    ("ru", "Ассамблеей", "ассамблея", Same),
    ("ru", "войны", "вои\u{306}ны", Same), // decomposed й (NFKC composes it)
    ("ru", "войны", "воины", Differ),      // wars, warriors: й is not и
    ("ru", "района", "раиона", Differ),
    ("ru", "мира", "мер", Differ),
    ("ru", "политики", "полиции", Differ),
    // Spanish
    ("es", "países", "pais", Same),
    ("es", "Países", "PAIS", Same),
    ("es", "niños", "niño", Same),
    ("es", "niñas", "nina", Same),
    ("es", "ORGÁNICOS", "orgánico", Same),
    ("es", "lingüísticos", "linguisticos", Same),
    ("es", "ciberdelincuencia", "CIBERDELINCUENCIA", Same),
    ("es", "Organización", "organizaciones", Same),
    ("es", "Organización", "organizacion", Same),
    ("es", "derechos humanos", "derecho humano", Same),
    ("es", "Naciones Unidas", "nación unida", Same),
    ("es", "sesiones", "sesión", Same),
    ("es", "acciones", "acción", Same),
    ("es", "resoluciones", "resolución", Same),
    ("es", "km²", "km2", Same),
    ("es", "política", "policía", Differ),
];

/// The keys of each token, position by position.
fn keys(tokens: Vec<Token>) -> Vec<Vec<String>> {
    tokens
        .iter()
        .map(|t| t.keys().map(str::to_string).collect())
        .collect()
}

/// Whether `query` matches `form` at `at`: every query token shares a key with the form's token.
fn matches_at(form: &[Vec<String>], query: &[Vec<String>], at: usize) -> bool {
    query
        .iter()
        .zip(&form[at..])
        .all(|(q, f)| q.iter().any(|k| f.contains(k)))
}

/// Analyses `form` and `query` in `lang` and says, if they do not relate as `expect` says, how not.
fn check(lang: &str, form: &str, query: &str, expect: Expect) -> Result<(), String> {
    let l = LangTag::parse(lang).unwrap().lang;
    let (f, q) = match expect {
        Bigrams => (keys(zh_bigrams(form)), keys(zh_bigrams(query))),
        _ => (keys(analyze(l, form)), keys(analyze(l, query))),
    };
    let same = f.len() == q.len() && matches_at(&f, &q, 0);
    let within = f.len() >= q.len() && (0..=f.len() - q.len()).any(|at| matches_at(&f, &q, at));
    let ok = match expect {
        Same => same,
        Differ => !same,
        Within | Bigrams => within,
    };
    if ok && !f.is_empty() && !q.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{lang}: {form:?} {f:?} vs {query:?} {q:?}: expected {expect:?}"
    ))
}

#[test]
fn devset_forms_meet_their_queries() {
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|&(lang, form, query, expect)| check(lang, form, query, expect).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn at_least_fifteen_cases_per_language() {
    for lang in LANGS {
        let n = CASES.iter().filter(|c| c.0 == lang).count();
        assert!(n >= 15, "{lang}: {n} cases");
    }
}

#[test]
fn forms_occur_in_the_devset() {
    for lang in LANGS {
        let path = format!("{DEVSET}{lang}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        for &(_, form, _, _) in CASES.iter().filter(|c| c.0 == lang) {
            assert!(text.contains(form), "{lang}: {form:?} is not in {path}");
        }
    }
}

/// Canonically equivalent text and upper-cased text analyse to the same keys, on a sample of real
/// lines (NFC and NFD alike; Arabic harakat in any order; case folding of every script).
#[test]
fn devset_lines_analyse_the_same_decomposed_and_upper_cased() {
    for lang in LANGS {
        let l = LangTag::parse(lang).unwrap().lang;
        let path = format!("{DEVSET}{lang}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        for line in text.lines().step_by(20) {
            let k = keys(analyze(l, line));
            let nfd: String = line.nfd().collect();
            assert_eq!(keys(analyze(l, &nfd)), k, "{lang}, NFD: {line}");
            assert_eq!(
                keys(analyze(l, &line.to_uppercase())),
                k,
                "{lang}, upper: {line}"
            );
        }
    }
}

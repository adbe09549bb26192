// End-to-end tests of the web page in headless Chromium (Debian's /usr/bin/chromium), driven by
// playwright-core. Run by tests/it/browser.rs against the real binary:
//
//   node tests/browser/e2e.mjs BASE_URL ARTEFACT_DIR
//
// BASE_URL serves the sample glossary and a translation memory holding the unit the test adds;
// a second server at BASE_URL_LOCKED (env) requires a key, given in HEXAGLOT_TEST_KEY.
// Screenshots of each scenario go to ARTEFACT_DIR. Exit code 0 when every scenario passes.

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, artefacts] = process.argv.slice(2);
if (!base || !artefacts) {
  console.error("usage: node e2e.mjs BASE_URL ARTEFACT_DIR");
  process.exit(2);
}
mkdirSync(artefacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic",
  ],
});
// playwright-core gives every context a fresh, empty profile (user-data dir)
const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });

let failures = 0;
function check(cond, message) {
  if (!cond) throw new Error(message);
}
async function scenario(name, fn) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", e => errors.push(e.message));
  try {
    await fn(page);
    check(errors.length === 0, "script errors: " + errors.join("; "));
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${e.message}`);
  } finally {
    await page.screenshot({ path: join(artefacts, name + ".png"), fullPage: true }).catch(() => {});
    await page.close();
  }
}

await scenario("search-hanoi", async page => {
  await page.goto(`${base}/?q=Hanoi&lang=fr`);
  const card = page.locator("article.concept", { hasText: "Convention de Hanoï" }).first();
  await card.waitFor({ timeout: 10000 });
  // all six languages, each with a term, French (the search language) first
  const langs = await card.locator(".lang-row").evaluateAll(rows => rows.map(r => r.dataset.lang));
  check(JSON.stringify(langs) === JSON.stringify(["fr", "ar", "zh", "en", "ru", "es"]), "languages " + langs);
  for (const code of ["ar", "zh", "en", "fr", "ru", "es"]) {
    const n = await card.locator(`.lang-row[data-lang=${code}] .term`).count();
    check(n > 0, `no ${code} term`);
  }
  // Arabic is laid out right to left and rendered in a font that has it
  const ar = card.locator(".lang-row[data-lang=ar]");
  check(await ar.getAttribute("dir") === "rtl" && await ar.getAttribute("lang") === "ar", "Arabic row attributes");
  const direction = await ar.evaluate(e => getComputedStyle(e).direction);
  check(direction === "rtl", "Arabic direction " + direction);
  const arText = await ar.locator(".term .text").first().textContent();
  check(/[\u0600-\u06FF]/.test(arText), "Arabic text " + arText);
  const arabicFontOk = await page.evaluate(() => document.fonts.check('16px "Noto Naskh Arabic"') || document.fonts.check('16px "Noto Sans Arabic"'));
  check(arabicFontOk, "no Arabic font");
  // the matched term is highlighted, the preferred one is prominent
  check(await card.locator(".term.hit").count() > 0, "no highlighted match");
  const weight = await card.locator(".lang-row[data-lang=fr] .term.status-preferred .text").first()
    .evaluate(e => getComputedStyle(e).fontWeight);
  check(Number(weight) >= 600, "preferred weight " + weight);
  // the URL can be shared
  check(page.url().includes("q=Hanoi") && page.url().includes("lang=fr"), "url " + page.url());
});

await scenario("deprecated-struck-through", async page => {
  await page.goto(`${base}/?q=Hanoi&lang=fr`);
  const term = page.locator(".term.status-deprecated", { hasText: "Convention de Hanoi" }).first();
  await term.waitFor({ timeout: 10000 });
  const text = await term.locator(".text").textContent();
  check(text === "Convention de Hanoi", "deprecated term " + text);
  const decoration = await term.locator(".text").evaluate(e => getComputedStyle(e).textDecorationLine);
  check(decoration.includes("line-through"), "decoration " + decoration);
  check((await term.locator(".badge").textContent()) === "deprecated", "status badge");
  // details on demand
  const card = page.locator("article.concept", { hasText: "Convention de Hanoï" }).first();
  const details = card.locator(".details");
  check(await details.isHidden(), "details shown before asked");
  await card.getByRole("button", { name: "details" }).click();
  check(await details.isVisible(), "details not shown");
});

await scenario("search-as-you-type", async page => {
  await page.goto(`${base}/`);
  await page.getByLabel("Search a term in any of the six languages").pressSequentially("киберпрест", { delay: 30 });
  const card = page.locator("article.concept", { hasText: "киберпреступность" }).first();
  await card.waitFor({ timeout: 10000 });
  check(page.url().includes("q="), "url not updated");
  // Chinese and Arabic queries find the same concept
  for (const q of ["网络犯罪", "الجرائم السيبرانية"]) {
    await page.getByLabel("Search a term in any of the six languages").fill(q);
    await page.keyboard.press("Enter");
    await page.locator("article.concept", { hasText: "cybercrime" }).first().waitFor({ timeout: 10000 });
  }
});

await scenario("tm-lookup", async page => {
  await page.goto(`${base}/?tab=memory`);
  await page.getByLabel("Sentence to translate").fill("The Convention against Cybercrime was signed in Hanoi in 2025.");
  await page.getByRole("button", { name: "Look up" }).click();
  const badge = page.locator("#tm-results .score").first();
  await badge.waitFor({ timeout: 10000 });
  const score = Number(await badge.textContent());
  check(score >= 70 && score < 100, "score " + score);
  const target = await page.locator("#tm-results .target").first().textContent();
  check(target.includes("Hanoï"), "target " + target);
  check(await page.locator("#tm-results ins, #tm-results del").count() > 0, "no diff shown");
  // concordance highlights the words
  await page.getByLabel("Words or phrase").fill("convention");
  await page.getByRole("button", { name: "Find" }).click();
  const mark = page.locator("#conc-results mark").first();
  await mark.waitFor({ timeout: 10000 });
  check((await mark.textContent()).toLowerCase() === "convention", "concordance mark");
});

await scenario("check-missing-term", async page => {
  await page.goto(`${base}/?tab=check`);
  await page.getByLabel("Source (one segment a line)").fill("The Hanoi Convention fights cybercrime.");
  await page.getByLabel("Target (one segment a line)").fill("La convention lutte contre la cybercriminalité.");
  await page.getByRole("button", { name: "Check", exact: true }).click();
  const issue = page.locator("#chk-issues li[data-check=term-missing]").first();
  await issue.waitFor({ timeout: 10000 });
  // the missing term is highlighted in the source, exactly where it is
  const mark = page.locator(".seg-source mark").first();
  await mark.waitFor();
  check((await mark.textContent()) === "Hanoi Convention", "highlight " + (await mark.textContent()));
  check(await mark.getAttribute("data-start") === "4" && await mark.getAttribute("data-end") === "20", "offsets");
  const cls = await mark.getAttribute("class");
  check(/sev-(warning|error)/.test(cls), "severity class " + cls);
});

await scenario("responsive-split-screen", async page => {
  await page.setViewportSize({ width: 700, height: 900 });
  await page.goto(`${base}/?q=Hanoi`);
  await page.locator("article.concept").first().waitFor({ timeout: 10000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, "horizontal overflow " + overflow);
  // keyboard: arrows move between tabs
  await page.getByRole("tab", { name: "Terms" }).focus();
  await page.keyboard.press("ArrowRight");
  check(await page.getByRole("tab", { name: "Memory" }).getAttribute("aria-selected") === "true", "arrow key tabs");
});

await scenario("check-xliff-file", async page => {
  await page.goto(`${base}/?tab=check`);
  await page.getByLabel("Or an XLIFF / TMX file (languages from the file)").setInputFiles(process.env.XLIFF_FILE);
  await page.getByRole("button", { name: "Check", exact: true }).click();
  await page.locator("#chk-meta", { hasText: "segment(s)" }).waitFor({ timeout: 10000 });
  const meta = await page.locator("#chk-meta").textContent();
  check(/^[1-9]\d* segment\(s\)/.test(meta), "summary " + meta);
});

await scenario("import-glossary", async page => {
  await page.goto(`${base}/?tab=import`);
  await page.evaluate(key => sessionStorage.setItem("hexaglot-key", key), process.env.HEXAGLOT_ADMIN_KEY);
  await page.getByLabel("Glossary or memory file").setInputFiles({
    name: "extra.tsv", mimeType: "text/tab-separated-values",
    buffer: Buffer.from("concept_id\tlang\tterm\tstatus\nbudapest\ten\tBudapest Convention\tpreferred\n"),
  });
  await page.getByLabel("Collection").fill("browser-extra");
  await page.getByRole("button", { name: "Import" }).click();
  const result = page.locator("#imp-result", { hasText: "Imported." });
  await result.waitFor({ timeout: 10000 });
  check((await result.textContent()).includes("1 added"), await result.textContent());
  // and it is found at once
  await page.goto(`${base}/?q=Budapest`);
  await page.locator("article.concept", { hasText: "Budapest Convention" }).first().waitFor({ timeout: 10000 });
});

const locked = process.env.BASE_URL_LOCKED;
if (locked) {
  await scenario("key-required", async page => {
    await page.goto(`${locked}/?q=Hanoi`);
    const dialog = page.locator("#key-dialog");
    await dialog.waitFor({ state: "visible", timeout: 10000 });
    await page.getByLabel("Key", { exact: true }).fill(process.env.HEXAGLOT_TEST_KEY || "");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.locator("article.concept", { hasText: "Convention de Hanoï" }).first().waitFor({ timeout: 10000 });
    const stored = await page.evaluate(() => sessionStorage.getItem("hexaglot-key"));
    check(stored === process.env.HEXAGLOT_TEST_KEY, "key not kept in session storage");
  });
}

await browser.close();
console.log(failures ? `${failures} scenario(s) failed` : "all scenarios passed");
process.exit(failures ? 1 : 0);

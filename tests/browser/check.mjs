// Kansli in a real browser: starts `kansli serve --demo` on a throw-away database, drives
// Debian's headless Chromium (never a browser a test tool downloads) through the public
// postlista and anslagstavla, the login, the start page, the diarium search and an ärende
// page, a follow-up's progress page, a registrator registering a handling with its file on
// the ärende page, the sekreterare's meetings, the administrator's pages (organisation with a
// refused import, series with a refused format, users and roles, the outbox) and a chef's
// questionnaire (error summary, draft, review, submission), runs axe-core on every page it
// visits, and fails on any WCAG 2.1 A or AA violation. Screenshots of the pages go to
// target/browser-screenshots/ for review.
//
//   cd tests/browser && npm ci && node check.mjs      (after `cargo build`)

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const kansli = process.env.KANSLI_BIN ?? join(root, "target/debug/kansli");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const shots = join(root, "target/browser-screenshots");
const axeSource = join(here, "node_modules/axe-core/axe.min.js");
const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

const freePort = () =>
  new Promise((ok) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

const work = mkdtempSync(join(tmpdir(), "kansli-browser-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const env = {
  ...process.env,
  KANSLI_DATABASE_URL: `sqlite://${work}/kansli.db`,
  KANSLI_MAIL_DIR: join(work, "mail"),
  KANSLI_MAIL_BASE_URL: base,
  KANSLI_SERVER_SECRET_FILE: join(work, "secret"),
  KANSLI_ENGINE_TICK_SECONDS: "1",
  KANSLI_WORKFLOWS_DIR: join(root, "workflows"),
  KANSLI_WORKFLOWS_TEMPLATES: join(root, "templates"),
  KANSLI_ACTOR: "browser-check",
  RUST_LOG: "warn",
};

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
async function until(what, probe, seconds = 60) {
  for (let i = 0; i < seconds * 10; i++) {
    const found = await probe();
    if (found) return found;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const server = spawn(kansli, ["serve", "--demo", "--addr", `127.0.0.1:${port}`], { env, stdio: "inherit" });
const failures = [];
let browser;
try {
  await until("the server", async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok);
  const started = execFileSync(kansli, ["workflow", "start", "aktiva-atgarder"], { env }).toString().trim().split("\n");
  const number = started[started.length - 1];
  console.log(`ärende ${number}`);

  // The BUF chef's invitation, as the server's postman wrote it.
  const link = await until("the invitation to the BUF chef", () => {
    for (const name of readdirSync(env.KANSLI_MAIL_DIR).filter((n) => n.endsWith(".eml"))) {
      const raw = readFileSync(join(env.KANSLI_MAIL_DIR, name), "utf8").replaceAll("=\r\n", "");
      if (raw.includes("oskar.lindfors@norrvika.example")) {
        const at = raw.indexOf("/enkat/");
        if (at >= 0) return raw.slice(at, at + 7 + 64);
      }
    }
    return null;
  });

  browser = await chromium.launch({
    executablePath: browserPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ locale: "sv-SE" });
  mkdirSync(shots, { recursive: true });
  // The pages run under a Content-Security-Policy with no script and styles only from
  // /stil.css: anything the policy blocks is a failure.
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) failures.push(`CSP: ${message.text()}`);
  });
  // axe is evaluated through the DevTools protocol, which the policy does not govern (a
  // script tag would be refused, as it should be).
  const axeText = readFileSync(axeSource, "utf8");

  // Logs out whoever is logged in, then in as `user` by way of `url` (the login page first).
  async function logInAs(url, user) {
    await page.goto(`${base}/`);
    if (await page.locator("button:has-text('Logga ut')").count()) {
      await page.click("button:has-text('Logga ut')");
    }
    await page.goto(url);
    await page.fill("#username", user);
    await page.fill("#password", "norrvika-demo");
    await page.click("button[type=submit]");
    await page.waitForSelector("h1");
  }

  let visited = 0;
  async function check(name) {
    visited++;
    await page.screenshot({ path: join(shots, `${String(visited).padStart(2, "0")}-${name}.png`), fullPage: true });
    await page.evaluate(axeText);
    const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
    if (!/Arial/.test(font)) failures.push(`${name}: the stylesheet did not apply (font ${font})`);
    const result = await page.evaluate(
      (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }),
      WCAG,
    );
    for (const v of result.violations) {
      failures.push(`${name}: ${v.id} (${v.impact}): ${v.help}; ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    }
    const lang = await page.evaluate(() => document.documentElement.lang);
    if (lang !== "sv") failures.push(`${name}: the page's language is ${JSON.stringify(lang)}, not sv`);
    console.log(`${name}: ${result.violations.length} violations, ${result.passes.length} rules passed`);
  }

  // The public pages, without login.
  await page.goto(`${base}/postlista`);
  await check("postlista");
  await page.goto(`${base}/anslagstavla`);
  await check("anslagstavla");

  // Staff: login (a wrong password first), start, progress.
  await page.goto(`${base}/arende/status?nummer=${encodeURIComponent(number)}`);
  await check("logga-in");
  await page.fill("#username", "amira.hadzic");
  await page.fill("#password", "fel-lösenord-här");
  await page.click("button[type=submit]");
  await check("logga-in-fel");
  await page.fill("#password", "norrvika-demo");
  await page.click("button[type=submit]");
  await page.waitForSelector("h1:has-text('Uppföljningens förlopp')");
  await check("forlopp");
  await page.goto(`${base}/`);
  await check("start");
  await page.fill("#q", "uppföljning");
  await page.click("form[role=search] button");
  await page.waitForSelector("caption");
  await check("diariet");
  await page.goto(`${base}/arenden?serie=KS&ar=${number.split(" ")[1].split("/")[0]}&status=open`);
  await page.waitForSelector("details[open]");
  await check("diariet-villkor");
  await page.click(`a:has-text("${number}")`);
  await page.waitForSelector("h2:has-text('Handlingar')");
  await check("arende");

  // The registrator: a handling with its file, registered on the ärende page.
  const arende = `${base}/arende?nummer=${encodeURIComponent(number)}`;
  await logInAs(arende, "per.ekdahl");
  await page.waitForSelector("h2:has-text('Registrera en handling')");
  await page.selectOption("#riktning", "inkommande");
  await page.fill("#motpart", "Barn- och utbildningsförvaltningen");
  await page.fill("#beskrivning", "Svar på uppföljningsenkät från BUF");
  await page.setInputFiles("#fil", {
    name: "svar-buf.pdf",
    mimeType: "application/pdf",
    buffer: Buffer.from("%PDF-1.7\n% Kansli browser check\n%%EOF\n"),
  });
  await page.click("form[action^='/arende/handling'] button[type=submit]");
  await page.waitForSelector("[role=status]");
  const notice = await page.textContent("[role=status]");
  if (!/Handlingen är registrerad som /.test(notice)) failures.push(`registering a handling: ${notice}`);
  const row = page.locator("table tr", { hasText: "Svar på uppföljningsenkät från BUF" });
  if ((await row.count()) !== 1) failures.push("the new handling is not in the ärende's table");
  else if ((await row.locator("a").count()) !== 1) failures.push("the new handling has no link to its file");
  await check("arende-handling-registrerad");

  // The sekreterare: the meetings, a new meeting, an anmälan, a decision.
  await page.goto(`${base}/`);
  await page.click("button:has-text('Logga ut')");
  await page.goto(`${base}/sammantraden`);
  await page.fill("#username", "sara.nyqvist");
  await page.fill("#password", "norrvika-demo");
  await page.click("button[type=submit]");
  await page.waitForSelector("h1:has-text('Sammanträden')");
  await check("sammantraden");
  await page.selectOption("#organ", "KSAU");
  await page.fill("#date", "2026-12-01");
  await page.fill("#place", "Sammanträdesrummet");
  await page.click("button:has-text('Planera sammanträdet')");
  await page.waitForSelector("h2:has-text('Föredragningslista')");
  await check("sammantrade");
  await page.fill("#anmal-nummer", number);
  await page.click("button:has-text('Anmäl')");
  await page.waitForSelector("#ordforande");
  // An item without an ärende, moved to the top of the föredragningslista.
  await page.fill("#punkt-rubrik", "Månadsrapport");
  await page.click("button:has-text('Sätt upp punkten')");
  await page.waitForSelector("button[aria-label='Flytta punkt 2 upp']");
  await page.click("button[aria-label='Flytta punkt 2 upp']");
  await page.waitForSelector("[role=status]");
  // The närvaro: Olle Ås is away and Hampus Kjellberg serves in his place.
  await page.check("#franvarande-1");
  await page.fill("#tjanstgorande", "Hampus Kjellberg=Olle Ås");
  await page.selectOption("#ordforande", "Cecilia Palmgren");
  await page.click("button:has-text('Registrera närvaron')");
  await page.waitForSelector("#beslut");
  await check("sammantrade-narvaro");
  // The proposal, after an omröstning, with a reservation.
  await page.selectOption("#typ", "forslag");
  await page.selectOption("#beslut-nummer", number);
  await page.fill("#beslut", "att föreslå kommunstyrelsen att godkänna rapporten");
  await page.selectOption("#forslag_till", "KS");
  await page.fill("#omrostning", "Ja för förslaget, nej för avslag");
  await page.selectOption("#rost-0", "Eva Ek=ja");
  await page.selectOption("#rost-1", "Cecilia Palmgren=ja");
  await page.selectOption("#rost-2", "Hampus Kjellberg=nej");
  await page.fill("#reservationer", "Hampus Kjellberg: Vi ville avslå förslaget.");
  await page.click("button:has-text('Protokollför paragrafen')");
  await page.waitForSelector("[role=status]");
  const said = await page.textContent("[role=status]");
  if (!said.includes("protokollförd som KSAU")) failures.push(`the paragraph: ${said}`);
  await check("sammantrade-beslut");
  const protocol = await (await page.request.get(`${base}/sammantraden/${page.url().split("/").pop()}/protokoll`)).text();
  if (!protocol.includes("Omröstningen utföll med 2 ja-röster och 1 nej-röster") || !protocol.includes("Hampus Kjellberg (KD) reserverar sig mot beslutet")) {
    failures.push("the protocol lacks the omröstning or the reservation");
  }

  // The administrator: every administration page, and the refusals' error summaries.
  await logInAs(`${base}/admin`, "mikael.aro");
  await page.waitForSelector("h1:has-text('Administration')");
  await check("admin");
  await page.click("nav a:has-text('Organisationen')");
  await page.waitForSelector("h2:has-text('Organ och enheter')");
  await check("admin-organisation");
  await page.fill("#organisation", '[[units]]\ncode = "IT"\nname = "IT-avdelningen"\nkind = "hemlig"\n');
  await page.click("button:has-text('Importera')");
  await page.waitForSelector(".felsammanfattning");
  const importError = await page.textContent(".felsammanfattning");
  if (!importError.includes("organisation.toml:1:") || !importError.includes("Ingenting importerades")) {
    failures.push(`the refused import: ${importError}`);
  }
  await check("admin-organisation-fel");
  await page.click("nav a:has-text('Diarieserier')");
  await page.waitForSelector("caption");
  await check("admin-serier");
  await page.click("a:has-text('Ändra'):has-text('serien KS')");
  await page.waitForSelector("h2:has-text('Ändra serien KS')");
  await page.fill("#format", "{prefix} {year}{seq}");
  await page.click("button:has-text('Spara serien')");
  await page.waitForSelector(".felsammanfattning");
  await check("admin-serier-fel");
  await page.click("nav a:has-text('Användare och roller')");
  await page.waitForSelector("h2:has-text('Nytt konto')");
  await check("admin-anvandare");
  await page.fill("#username", "ny.registrator");
  await page.selectOption("#person", "per.ekdahl");
  await page.fill("#password", "ett-tillräckligt-långt-lösenord");
  await page.click("button:has-text('Skapa kontot')");
  await page.waitForSelector("[role=status]");
  await check("admin-anvandare-skapat");
  await page.click("a:has-text('Ändra roller'):has-text('Oskar Lindfors')");
  await page.waitForSelector("legend");
  await check("admin-roller");
  await page.check("#r-HR-handlaggare");
  await page.click("button:has-text('Spara rollerna')");
  await page.waitForSelector("[role=status]");
  await check("admin-roller-sparade");
  await page.click("nav a:has-text('Utskick')");
  await page.waitForSelector("h1:has-text('Utskick')");
  await check("admin-utskick");
  await page.selectOption("#status", "failed");
  await page.click("form[method=get] button[type=submit]");
  await page.waitForSelector("#meddelanden");
  await check("admin-utskick-misslyckade");

  // The administrator's own API token, shown once.
  await page.goto(`${base}/konto`);
  await check("konto");
  await page.fill("#namn", "e-arkivet");
  await page.fill("#dagar", "365");
  await page.click("button[value=skapa]");
  await page.waitForSelector("#ny-nyckel");
  await check("konto-ny-nyckel");

  // The chef's questionnaire: an incomplete answer gets the error summary, then a draft.
  await page.goto(`${base}${link}`);
  await check("enkat");
  await page.click("button[value=granska]");
  await page.waitForSelector(".felsammanfattning");
  await check("enkat-felsammanfattning");
  const required = {
    "A2.totalt": "120", "A2.kvinnor": "80", "A2.man": "40", A3: "Förvaltningens HR-chef",
    B3: "0", "D3.kvinnor": "6", "D3.man": "4", E2: "3",
    "J1.0.atgard": "Utbildning i aktiva åtgärder för chefer", "J1.0.ansvarig": "HR-chef", "J1.0.klart": "2027-06-30",
  };
  for (const [name, value] of Object.entries(required)) {
    await page.fill(`[name="${name}"]`, value);
  }
  await page.selectOption('[name="J1.0.omrade"]', "arbetsförhållanden").catch(() => page.fill('[name="J1.0.omrade"]', "arbetsförhållanden"));
  for (const q of ["B1", "B2", "C1", "C2", "D1", "D2", "E1", "F1", "F2", "G1", "G2", "G3", "H1"]) {
    await page.check(`[name="${q}"][value="ja"]`);
  }
  await page.click("button[value=spara]");
  await check("enkat-utkast");
  await page.click("button[value=granska]");
  await page.waitForSelector("button[value=skicka]");
  await check("granska");
  await page.click("button[value=skicka]");
  await page.waitForSelector("[role=status]");
  await check("klart");
} catch (e) {
  failures.push(`the walk-through stopped: ${e.stack ?? e}`);
} finally {
  await browser?.close();
  server.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
}

if (failures.length) {
  console.error(`\n${failures.length} problem(s):\n${failures.join("\n")}`);
  process.exit(1);
}
console.log(`\nno WCAG 2.1 A or AA violations; screenshots in ${shots}`);

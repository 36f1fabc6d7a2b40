// audit_chromium.mjs -- open an `espigate audit` HTML report in headless Chromium and
// check what a utility manager would see: a title naming the audit, lang="en", the
// summary table and the rules table with their header cells (th[scope]) and captions,
// one rules row per AUD- rule, a verdict, evidence that opens, no script, no console
// error and no network request (the page must be self-contained).  Saves a full-page
// screenshot with the evidence opened.
//   node audit_chromium.mjs OUT_DIR REPORT.html
// Exit 0 when the page passes, 1 otherwise; one line per finding.
import { openBrowser } from '../browser.mjs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [outDir, file] = process.argv.slice(2);
if (!outDir || !file) {
  console.error('usage: node audit_chromium.mjs OUT_DIR REPORT.html');
  process.exit(64);
}
const { browser, close } = await openBrowser({ viewport: { width: 1200, height: 900 } });
let failed = 0;
const name = basename(file, '.html');
const fail = (msg) => { failed++; console.log(`FAIL ${name}: ${msg}`); };
try {
  const url = pathToFileURL(resolve(file)).href;
  const page = await browser.newPage();
  const errors = [], requests = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (r.url() !== url) requests.push(r.url()); });
  await page.goto(url, { waitUntil: 'load' });
  const f = await page.evaluate(() => {
    const heads = (sel) => [...document.querySelectorAll(`${sel} thead th[scope="col"]`)]
      .map((t) => t.textContent.trim());
    return {
      title: document.title,
      lang: document.documentElement.lang,
      summary: heads('#summary'),
      rules: heads('#rules'),
      captions: [...document.querySelectorAll('table caption')].map((c) => c.textContent.trim()),
      rows: document.querySelectorAll('#rules tbody tr[id^="AUD-"]').length,
      verdict: document.querySelector('.verdict')?.textContent.trim() ?? '',
      scripts: document.querySelectorAll('script').length,
      details: document.querySelectorAll('details').length,
    };
  });
  if (!/conformance audit/i.test(f.title)) fail(`title is "${f.title}"`);
  if (f.lang !== 'en') fail(`html lang is "${f.lang}"`);
  const want = (got, exp, what) => {
    if (JSON.stringify(got) !== JSON.stringify(exp)) fail(`${what}: ${JSON.stringify(got)}`);
  };
  want(f.summary, ['Rules passed', 'Rules failed', 'Rules skipped', 'Requests'], 'summary headers');
  want(f.rules, ['Rule', 'Result', 'Statement', 'Mirrors', 'Evidence'], 'rules headers');
  want(f.captions, ['Summary', 'Rules'], 'captions');
  if (f.rows < 20) fail(`only ${f.rows} rule rows`);
  if (!/^Verdict: (PASS|FAIL|UNREACHABLE)$/.test(f.verdict)) fail(`verdict "${f.verdict}"`);
  if (f.scripts) fail(`${f.scripts} script elements`);
  if (!f.details) fail('no evidence (details) elements');
  await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
  const opened = await page.evaluate(() =>
    [...document.querySelectorAll('details p')].filter((p) => p.getBoundingClientRect().height > 0).length);
  if (!opened) fail('opened evidence is not visible');
  if (errors.length) fail(`console errors: ${errors.join(' | ')}`);
  if (requests.length) fail(`network requests: ${requests.join(' ')}`);
  await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
  console.log(`ok ${name}: "${f.title}", ${f.rows} rules, ${f.verdict}, ${opened} evidence lines`);
  await page.close();
} finally {
  await close();
}
process.exit(failed ? 1 : 0);

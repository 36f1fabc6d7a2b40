// chromium.mjs -- open rendered pages in headless Chromium and check what a
// person would see: a page title and lang, tables with header cells, charts
// (svg role=img with a title) with visible bars, no console errors, and no
// network request at all (the page must be self-contained).  Saves a
// full-page screenshot per page.
//   node chromium.mjs OUT_DIR PAGE.html...
// Exit 0 when every page passes, 1 otherwise; one line per finding.
import { openBrowser } from '../browser.mjs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [outDir, ...pages] = process.argv.slice(2);
if (!outDir || pages.length === 0) {
  console.error('usage: node chromium.mjs OUT_DIR PAGE.html...');
  process.exit(64);
}
const { browser, close } = await openBrowser({ viewport: { width: 1000, height: 800 } });
let failed = 0;
const fail = (page, msg) => { failed++; console.log(`FAIL ${page}: ${msg}`); };

try {
  for (const file of pages) {
    const name = basename(file, '.html');
    const url = pathToFileURL(resolve(file)).href;
    const page = await browser.newPage();
    const errors = [], requests = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => { if (r.url() !== url) requests.push(r.url()); });
    await page.goto(url, { waitUntil: 'load' });

    const facts = await page.evaluate(() => {
      const bars = [...document.querySelectorAll('svg rect.bar')];
      const charts = [...document.querySelectorAll('svg[role="img"]')];
      const tables = [...document.querySelectorAll('table')];
      return {
        title: document.title,
        lang: document.documentElement.lang,
        charts: charts.length,
        chartsTitled: charts.filter((s) => s.querySelector('title')?.textContent.trim()).length,
        bars: bars.length,
        visibleBars: bars.filter((b) => b.getBoundingClientRect().height > 0 &&
                                        Number(b.getAttribute('height')) > 0).length,
        tables: tables.length,
        tablesWithTh: tables.filter((t) => t.querySelector('th[scope]')).length,
        tablesWithCaption: tables.filter((t) => t.querySelector('caption')).length,
        scripts: document.querySelectorAll('script').length,
      };
    });
    if (!facts.title.trim()) fail(name, 'page has no <title>');
    if (facts.lang !== 'en') fail(name, `html lang is "${facts.lang}"`);
    if (facts.charts === 0) fail(name, 'no chart (svg role=img)');
    if (facts.chartsTitled !== facts.charts) fail(name, 'a chart has no <title> text alternative');
    if (facts.visibleBars === 0) fail(name, `no bar with non-zero height (of ${facts.bars})`);
    if (facts.tables === 0 || facts.tablesWithTh !== facts.tables) fail(name, 'a table has no th[scope]');
    if (facts.tablesWithCaption !== facts.tables) fail(name, 'a table has no caption');
    if (facts.scripts) fail(name, `${facts.scripts} script elements (hostile text not escaped?)`);
    if (errors.length) fail(name, `console errors: ${errors.join(' | ')}`);
    if (requests.length) fail(name, `network requests: ${requests.join(' ')}`);
    // open the <details> tables so the screenshot shows them too
    await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
    await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
    console.log(`ok ${name}: "${facts.title}", ${facts.visibleBars}/${facts.bars} bars, ` +
                `${facts.charts} charts, ${facts.tables} tables`);
    await page.close();
  }
} finally {
  await close();
}
process.exit(failed ? 1 : 0);

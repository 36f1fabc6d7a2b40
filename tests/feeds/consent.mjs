// consent.mjs -- the member's consent page in headless Chromium, as a person uses it:
// open the third party's authorization link, read what the app asks for, log in,
// press Approve, and land on the app's redirect URI with a code and the state.
// Also: the page is self-contained (no request leaves the server), has a title,
// lang, a heading and labelled inputs, and a screenshot is kept as an artifact.
//   node consent.mjs AUTHORIZE_URL REDIRECT_URI STATE LOGIN PASSWORD SCREENSHOT.png
// Exit 0 when every check passes; one "ok"/"not ok" line per check.
import { openBrowser } from '../browser.mjs';

const [authUrl, redirectUri, state, login, password, shot] = process.argv.slice(2);
if (!shot) {
  console.error('usage: node consent.mjs AUTHORIZE_URL REDIRECT_URI STATE LOGIN PASSWORD SHOT.png');
  process.exit(64);
}
let passed = 0, failed = 0;
const check = (name, cond, detail = '') => {
  if (cond) { passed++; console.log(`ok - ${name}`); }
  else { failed++; console.log(`not ok - ${name}${detail ? `\n  ${detail}` : ''}`); }
};
const origin = new URL(authUrl).origin;
const { browser, close } = await openBrowser({ ignoreHTTPSErrors: true,   // the development CA is not in Chromium's store
  viewport: { width: 900, height: 900 } });
try {
  const page = await browser.newPage();
  const foreign = [], errors = [];
  let landed = null;
  // the app's redirect URI is not served here: the request to it is the proof
  // (the navigation itself then fails, which is fine)
  page.on('request', (r) => {
    const u = r.url();
    if (u.startsWith(redirectUri) && !landed) landed = u;
    if (!u.startsWith(origin) && !u.startsWith(redirectUri)) foreign.push(u);
  });
  page.on('console', (m) => {
    // after Approve the app's URI does not answer here: that load error is expected
    if (m.type() === 'error' && !landed) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));

  const resp = await page.goto(authUrl, { waitUntil: 'load' });
  check('consent page answers 200', resp && resp.status() === 200, resp && resp.status());
  const facts = await page.evaluate(() => ({
    title: document.title,
    lang: document.documentElement.lang,
    h1: document.querySelector('h1')?.textContent || '',
    text: document.body.innerText,
    unlabelled: [...document.querySelectorAll('input:not([type=hidden])')]
      .filter((i) => !i.id || !document.querySelector(`label[for="${i.id}"]`)).length,
  }));
  check('page has a title, a language and a heading', facts.title && facts.lang && facts.h1, JSON.stringify(facts).slice(0, 200));
  check('every visible input has a label', facts.unlabelled === 0, `${facts.unlabelled} unlabelled`);
  check('the page says which Function Blocks are asked for', /Function Block 1\b.*Usage Data Common/s.test(facts.text), facts.text.slice(0, 300));
  check('the page links to a preview of the data', await page.locator('a#preview').count() === 1);
  check('the page says the interval and history asked for', /15 minutes/.test(facts.text) && /History/i.test(facts.text), facts.text.slice(0, 300));
  await page.screenshot({ path: shot, fullPage: true });

  await page.fill('#login', login);
  await page.fill('#password', password);
  await Promise.all([
    page.waitForRequest((r) => r.url().startsWith(redirectUri), { timeout: 10000 }).catch(() => {}),
    page.click('#approve'),
  ]);
  check('Approve lands on the app redirect URI', landed !== null, page.url());
  if (landed) {
    console.log(`# landed ${landed}`);
    const q = new URL(landed).searchParams;
    check('with an authorization code', (q.get('code') || '').length >= 32, landed);
    check('and the state the app sent', q.get('state') === state, landed);
  }
  check('no request left the Data Custodian', foreign.length === 0, foreign.join(' '));
  check('no console errors', errors.length === 0, errors.join(' | '));
} finally {
  await close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

// member.mjs -- a member's own data page of `espigate serve` in headless Chromium:
// log in on {prefix}/member and see the rendered page (charts as inline SVG, tables
// with headers), with no console errors (a CSP violation would be one) and no
// request leaving the server.  Saves a screenshot.
//   node member.mjs MEMBER_URL LOGIN PASSWORD SCREENSHOT.png
import { openBrowser } from '../browser.mjs';

const [url, login, password, shot] = process.argv.slice(2);
let passed = 0, failed = 0;
const check = (name, cond, detail = '') => {
  if (cond) { passed++; console.log(`ok - ${name}`); }
  else { failed++; console.log(`not ok - ${name}${detail ? `\n  ${detail}` : ''}`); }
};
const origin = new URL(url).origin;
const { browser, close } = await openBrowser({ ignoreHTTPSErrors: true, viewport: { width: 1000, height: 900 } });
try {
  const page = await browser.newPage();
  const foreign = [], errors = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) foreign.push(r.url()); });
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url, { waitUntil: 'load' });
  check('member login page has labelled inputs', await page.locator('label[for=login]').count() === 1 &&
        await page.locator('label[for=password]').count() === 1);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await Promise.all([page.waitForLoadState('load'), page.waitForNavigation(), page.click('#show')]);
  const facts = await page.evaluate(() => ({
    title: document.title,
    charts: document.querySelectorAll('svg[role="img"]').length,
    bars: document.querySelectorAll('svg rect.bar').length,
    th: document.querySelectorAll('th').length,
  }));
  check('after login the member sees their data page', /energy data/i.test(facts.title), facts.title);
  check('with charts (inline SVG) and bars', facts.charts > 0 && facts.bars > 0, JSON.stringify(facts));
  check('and tables with header cells', facts.th > 0, JSON.stringify(facts));
  await page.screenshot({ path: shot, fullPage: false });
  check('no console errors (CSP included)', errors.length === 0, errors.join(' | ').slice(0, 500));
  check('no request left the Data Custodian', foreign.length === 0, foreign.join(' '));
} finally {
  await close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

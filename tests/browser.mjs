// browser.mjs -- what every headless-Chromium test shares: Debian's chromium
// ($CHROMIUM to override) through playwright-core, in a fresh profile folder
// that close() removes, with the background traffic Chromium makes on its own
// (updates, sync, QUIC probes) turned off, so a test's "no request leaves the
// page" check sees only the page's own requests.
//   const { browser, close } = await openBrowser({ viewport: {...}, ignoreHTTPSErrors: true });
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function openBrowser(options = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'espigate-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    ...options,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--disable-quic'],
  });
  const close = async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { browser, close };
}

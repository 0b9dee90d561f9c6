'use strict';
// Shared by the browser tests: the server under test, the browser, signing in, the
// accessibility check and the fingerprints of the screenshots.

const crypto = require('node:crypto');
const { chromium } = require('playwright-core');

// .ci/e2e starts the demo server and says where it listens.
const BASE = process.env.E2E_BASE_URL;
if (!BASE) {
  throw new Error('E2E_BASE_URL is not set: run the tests with bash .ci/e2e');
}

// The day the demo data describes: the report (and so every page about readiness) depends on
// the day, and the default is today.
const AS_OF = '2026-06-30';
const ADMIN = { email: 'demo@iso20k.example', password: 'iso20k-demo-password' };
const VIEWER = { email: 'viewer@iso20k.example', password: 'viewer-password-1' };
const OWNER = { email: 'owner@iso20k.example', password: 'owner-password-1' };
const AUDITOR = { email: 'auditor@iso20k.example', password: 'auditor-password-1' };
const VIEWPORT = { width: 1280, height: 800 };

function launch() {
  return chromium.launch({
    executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

async function newContext(browser) {
  const context = await browser.newContext({
    baseURL: BASE,
    viewport: VIEWPORT,
    locale: 'en-GB',
    timezoneId: 'UTC',
    reducedMotion: 'reduce',
    // axe is injected as a script: a future Content-Security-Policy must not stop the check.
    bypassCSP: true,
  });
  // Every page is drawn by the server without script; ten seconds is already very slow.
  context.setDefaultTimeout(10_000);
  return context;
}

/** Signs in through the form and waits until the browser has left the sign-in page. */
async function signIn(page, who) {
  if (new URL(page.url(), BASE).pathname !== '/login') {
    await page.goto('/login');
  }
  await page.fill('input[name=email]', who.email);
  await page.fill('input[name=password]', who.password);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login'),
    page.click('form[action="/login"] button[type=submit]'),
  ]);
}

/** Where the page is, as a path with its query: the name of a page in the reports. */
function here(page) {
  const u = new URL(page.url());
  return decodeURIComponent(u.pathname) + u.search;
}

const AXE = require.resolve('axe-core');
const FAILING = new Set(['serious', 'critical']);

/**
 * Runs axe on every page the tests visit and keeps what it found; the accessibility test fails
 * on any serious or critical violation of any of them. A page is known by who looked at it, its
 * address and its title (an error page answers at the address of the form that failed).
 */
class Accessibility {
  constructor() {
    this.pages = new Map();
  }

  async check(page, who = 'admin') {
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate(() =>
      // eslint-disable-next-line no-undef
      axe.run(document, { resultTypes: ['violations'] }),
    );
    const path = here(page);
    const name = `${who} ${path} "${await page.title()}"`;
    this.pages.set(name, { path, violations: result.violations });
    return result.violations.filter((v) => FAILING.has(v.impact));
  }

  visited(path) {
    return [...this.pages.values()].some((p) => p.path === path);
  }

  /** How many (page, rule) violations there are of the failing impacts, or of the others. */
  count(failing) {
    let n = 0;
    for (const { violations } of this.pages.values()) {
      n += violations.filter((v) => FAILING.has(v.impact) === failing).length;
    }
    return n;
  }

  /** Each violation: page, rule, impact, and every element that fails it. */
  report(failing) {
    const lines = [];
    for (const [name, { violations }] of this.pages) {
      for (const v of violations) {
        if (FAILING.has(v.impact) !== failing) continue;
        lines.push(`${name}: ${v.id} (${v.impact}) ${v.help} <${v.helpUrl}>`);
        for (const node of v.nodes) {
          lines.push(`    ${node.target.join(' ')}  ${node.html.slice(0, 160)}`);
        }
      }
    }
    return lines;
  }
}

function sha256(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

// RFC 3339 times (when a record last changed, its history): they differ on every run.
const TIMESTAMP = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g;

/**
 * What a page says, normalised: its visible text, then the values of its form controls (a
 * record form says almost everything in them, and innerText leaves them out), whitespace
 * collapsed. Times and anything marked `data-volatile` are masked, so the text changes only when
 * the page does. Changes the page's DOM: take the screenshot first.
 */
async function pageText(page) {
  const text = await page.evaluate(() => {
    for (const el of document.querySelectorAll('[data-volatile]')) {
      el.textContent = '(volatile)';
    }
    const values = [];
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (el.type === 'hidden' || el.type === 'password' || el.hasAttribute('data-volatile')) {
        continue;
      }
      if (el.type === 'checkbox' || el.type === 'radio') {
        values.push(`${el.name}=${el.value}:${el.checked ? 'on' : 'off'}`);
      } else {
        values.push(`${el.name}=${el.value}`);
      }
    }
    return `${document.body.innerText}\n${values.join('\n')}`;
  });
  return text.replace(TIMESTAMP, '(time)').replace(/\s+/g, ' ').trim();
}

module.exports = {
  BASE,
  AS_OF,
  ADMIN,
  VIEWER,
  OWNER,
  AUDITOR,
  VIEWPORT,
  launch,
  newContext,
  signIn,
  here,
  Accessibility,
  sha256,
  pageText,
};

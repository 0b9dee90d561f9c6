'use strict';
// Single sign-on end to end: Chromium signs in to a second iso20k server through a real
// OpenID provider (npm's oidc-provider, started by .ci/e2e with e2e/oidc-provider.mjs), going
// through the provider's own sign-in and consent pages, lands in the organisation its group
// maps to with the mapped role, and signs out at iso20k and at the provider.

const assert = require('node:assert/strict');
const { after, before, test } = require('node:test');

const { ADMIN, VIEWER, Accessibility, launch } = require('./helpers');

const SSO = process.env.E2E_SSO_URL;
const ISSUER = process.env.E2E_OIDC_ISSUER;
if (!SSO || !ISSUER) {
  throw new Error('E2E_SSO_URL and E2E_OIDC_ISSUER are not set: run the tests with bash .ci/e2e');
}

let browser;
const a11y = new Accessibility();

/** Fails on a serious or critical accessibility violation of the page as it is now. */
async function accessible(page, who) {
  const failing = await a11y.check(page, who);
  assert.deepEqual(
    failing.map((v) => `${v.id}: ${v.help}`),
    [],
    `accessibility of ${page.url()}`,
  );
}

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function newPage() {
  const context = await browser.newContext({ baseURL: SSO, locale: 'en-GB', timezoneId: 'UTC' });
  context.setDefaultTimeout(15_000);
  // The provider's development pages import a web font: nothing may leave the machine.
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
  return context.newPage();
}

/** The provider's part: its sign-in page (any password goes), then its consent page. */
async function atProvider(page, login) {
  await page.waitForURL((u) => u.origin === ISSUER);
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any password');
  await page.click('button[type=submit]');
  await page.click('button:has-text("Continue")');
}

async function session(page) {
  const response = await page.request.get('/api/v1/session');
  return { status: response.status(), body: response.ok() ? await response.json() : null };
}

test('single sign-on lands with the mapped role and signs out at the provider too', async () => {
  const page = await newPage();
  await page.goto('/login');
  await accessible(page, 'signed-out (single sign-on only)');
  await page.click('#sso');
  await atProvider(page, 'sso.manager');
  // A manager lands on My work.
  await page.waitForURL((u) => u.origin === SSO && u.pathname === '/orgs/demo/my');

  const me = await session(page);
  assert.equal(me.status, 200);
  assert.equal(me.body.user.email, 'sso.manager@iso20k.example');
  assert.deepEqual(
    me.body.orgs.map((o) => [o.slug, o.role]),
    [['demo', 'manager']],
  );
  // The page chrome shows who is signed in, by the name the provider gave.
  assert.match(await page.textContent('header'), /SSO sso\.manager/);

  await page.click('form[action="/logout"] button[type=submit]');
  // The provider asks whether to sign out there too, then sends the browser back.
  await page.waitForURL((u) => u.origin === ISSUER);
  await page.click('button[name=logout]');
  await page.waitForURL((u) => u.origin === SSO && u.pathname === '/login');
  assert.equal((await session(page)).status, 401, 'the session is gone');
});

test('an account no group maps is signed in and told it has no organisation', async () => {
  const page = await newPage();
  await page.goto('/orgs/demo');
  // Sent to sign in, and through the provider.
  await page.waitForURL((u) => u.pathname === '/login');
  await page.click('#sso');
  await atProvider(page, 'nogroup.person');
  await page.waitForURL((u) => u.origin === SSO && u.pathname === '/orgs/demo');
  // The organisation it asked for refuses it; the list of its organisations says why.
  await page.goto('/orgs');
  await accessible(page, 'no organisation');
  const text = await page.textContent('#no-orgs');
  assert.match(text, /no role in any organisation/);
  assert.match(text, /sign-in provider gave you no group/);
  const me = await session(page);
  assert.equal(me.body.user.email, 'nogroup.person@iso20k.example');
  assert.deepEqual(me.body.orgs, []);
});

test('under --sso-only the password form is hidden and refused, but for the break-glass admin', async () => {
  const page = await newPage();
  await page.goto('/login');
  assert.equal(await page.locator('input[name=password]').count(), 0, 'no password form');
  assert.equal(await page.locator('#sso').count(), 1, 'the single sign-on button');

  // Someone else's right password is refused, in words.
  await page.click('text=Break-glass administrator sign-in');
  await page.fill('input[name=email]', VIEWER.email);
  await page.fill('input[name=password]', VIEWER.password);
  await page.click('form[action="/login"] button[type=submit]');
  assert.match(await page.textContent('[role=alert]'), /Password sign-in is turned off/);
  await accessible(page, 'refused password');
  assert.equal((await session(page)).status, 401);

  // The break-glass administrator gets in with a password.
  await page.click('text=Break-glass administrator sign-in');
  await page.fill('input[name=email]', ADMIN.email);
  await page.fill('input[name=password]', ADMIN.password);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login'),
    page.click('form[action="/login"] button[type=submit]'),
  ]);
  const me = await session(page);
  assert.equal(me.body.user.email, ADMIN.email);
});

'use strict';
// The browser UI end to end, in a real Chromium against the demo server that .ci/e2e starts on a
// throwaway database. The tests run in order and share the server: the screenshots are taken
// before anything changes the demo records, the fix and the approval change them.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, test } = require('node:test');

const {
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
} = require('./helpers');

const DASHBOARD = `/orgs/demo?as_of=${AS_OF}`;
const FINDING = 'mr-no-top-management';
const DRAFT = '/orgs/demo/records/documents/CHP-001%2F0.3';
// A management review of the demo that nothing here changes.
const REVIEW = '/orgs/demo/records/management-reviews/MR-2025-2';

const a11y = new Accessibility();
let browser;
let admin; // a page signed in as the demo's admin, shared by the tests that follow sign-in
let reportJson; // the readiness report of AS_OF, from the API

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

/** The admin's page, signed in on first use (normally by the sign-in test). */
async function adminPage() {
  if (!admin) {
    admin = await (await newContext(browser)).newPage();
    await signIn(admin, ADMIN);
  }
  return admin;
}

async function readiness(page) {
  const response = await page.request.get(`/api/v1/orgs/demo/readiness?as_of=${AS_OF}`);
  assert.equal(response.status(), 200, 'GET /api/v1/orgs/demo/readiness');
  return response.json();
}

async function overall(page) {
  const text = (await page.textContent('#overall')).trim();
  assert.match(text, /^\d+\.\d$/, `#overall shows a number to one decimal, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** A score as pages show it: one decimal, rounded down, so no figure reads as a band it has not reached. */
function figure(score) {
  return Math.floor(Math.round(score * 100) / 10 + 1e-9) / 10;
}

test('sign in', async () => {
  const context = await newContext(browser);
  const page = await context.newPage();

  // A page behind the sign-in sends the browser there, and back afterwards.
  await page.goto('/orgs/demo/kb');
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/orgs/demo/kb');
  await a11y.check(page, 'signed-out');

  const form = page.locator('form[action="/login"]');
  assert.equal(await form.locator('input[name=email]').count(), 1, 'an email input');
  assert.equal(await form.locator('input[name=password][type=password]').count(), 1, 'a password input');
  assert.equal(await form.locator('button[type=submit]').count(), 1, 'a submit button');

  // A wrong password keeps the person on the form, told why.
  await page.fill('input[name=email]', ADMIN.email);
  await page.fill('input[name=password]', 'not-the-password');
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.click('form[action="/login"] button[type=submit]'),
  ]);
  assert.equal(refused.status(), 401);
  assert.match(await page.textContent('[role=alert]'), /Wrong email or password/);
  assert.equal(await page.inputValue('input[name=email]'), ADMIN.email, 'the email is kept');

  await signIn(page, ADMIN);
  assert.equal(here(page), '/orgs/demo/kb', 'back where the person was going');

  // Without a page to go back to, the only organisation's dashboard.
  const dashboard = await (await newContext(browser)).newPage();
  await dashboard.goto('/login');
  await signIn(dashboard, ADMIN);
  assert.equal(here(dashboard), '/orgs/demo');
  await overall(dashboard);
  await a11y.check(dashboard);
  admin = dashboard;
  await context.close();
});

// --- Screenshots ------------------------------------------------------------------------------

const SHOTS = path.join(__dirname, '..', 'docs', 'screenshots');
const MANIFEST = path.join(SHOTS, 'manifest.json');
const UPDATE = process.env.E2E_UPDATE_SCREENSHOTS === '1';
const SCREENSHOTS = [
  { name: 'login', path: '/login', signedOut: true },
  { name: 'dashboard', path: DASHBOARD },
  { name: 'clause-9.3', path: `/orgs/demo/clauses/9.3?as_of=${AS_OF}` },
  { name: 'finding', path: `/orgs/demo/findings/${FINDING}?as_of=${AS_OF}` },
  { name: 'record-form', path: REVIEW },
  { name: 'audit-form', path: '/orgs/demo/records/audits/IA-2024-01' },
  { name: 'action-plan', path: '/orgs/demo/plan' },
  { name: 'audit-programme', path: '/orgs/demo/audit-programme' },
  { name: 'audit', path: '/orgs/demo/audits/IA-2025-01' },
  { name: 'audit-sample', path: '/orgs/demo/audits/IA-2025-01/samples/S1' },
  { name: 'nonconformity-board', path: '/orgs/demo/nonconformities' },
  { name: 'nonconformity', path: '/orgs/demo/nonconformities/NC-2025-03' },
  { name: 'knowledge-base', path: '/orgs/demo/kb' },
];

test('screenshots are up to date', async () => {
  await adminPage();
  const signedOut = await (await newContext(browser)).newPage();
  const css = await admin.request.get('/static/app.css');
  assert.equal(css.status(), 200);
  const cssSha = sha256(await css.body());
  const manifest = {
    about:
      'Screenshots of the main pages at 1280x800. text_sha256 is the SHA-256 of the page\'s ' +
      'normalised text (visible text and form values, times masked), css_sha256 of ' +
      '/static/app.css: when either changes, the screenshot is stale. ' +
      'Regenerate with: bash .ci/e2e --update-screenshots',
    viewport: `${VIEWPORT.width}x${VIEWPORT.height}`,
    screenshots: {},
  };
  if (UPDATE) fs.mkdirSync(SHOTS, { recursive: true });
  for (const shot of SCREENSHOTS) {
    const page = shot.signedOut ? signedOut : admin;
    const response = await page.goto(shot.path);
    assert.equal(response.status(), 200, shot.path);
    await page.evaluate(() => document.fonts.ready);
    if (UPDATE) {
      await page.screenshot({ path: path.join(SHOTS, `${shot.name}.png`), animations: 'disabled' });
    }
    await a11y.check(page, shot.signedOut ? 'signed-out' : 'admin');
    manifest.screenshots[shot.name] = {
      file: `${shot.name}.png`,
      path: shot.path,
      text_sha256: sha256(await pageText(page)),
      css_sha256: cssSha,
    };
  }
  await signedOut.context().close();

  if (UPDATE) {
    fs.writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
    // A page no longer shot leaves no picture behind.
    const taken = new Set(SCREENSHOTS.map((s) => `${s.name}.png`));
    for (const file of fs.readdirSync(SHOTS)) {
      if (file.endsWith('.png') && !taken.has(file)) fs.rmSync(path.join(SHOTS, file));
    }
    return;
  }
  const stale = [];
  let committed = null;
  try {
    committed = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
  } catch {
    stale.push(`${path.relative(process.cwd(), MANIFEST)} is missing or unreadable`);
  }
  if (committed) {
    for (const [name, now] of Object.entries(manifest.screenshots)) {
      const then = committed.screenshots?.[name];
      if (!then) stale.push(`${name}: not in the manifest`);
      else if (then.path !== now.path) stale.push(`${name}: the page is now ${now.path}`);
      else if (then.text_sha256 !== now.text_sha256) stale.push(`${name}: the page's text changed`);
      else if (then.css_sha256 !== now.css_sha256) stale.push(`${name}: app.css changed`);
      if (!fs.existsSync(path.join(SHOTS, now.file))) stale.push(`${name}: ${now.file} is missing`);
    }
    for (const name of Object.keys(committed.screenshots ?? {})) {
      if (!manifest.screenshots[name]) stale.push(`${name}: no longer taken`);
    }
    if (committed.viewport !== manifest.viewport) stale.push('the viewport changed');
  }
  assert.ok(
    stale.length === 0,
    `screenshots are stale: run bash .ci/e2e --update-screenshots\n  ${stale.join('\n  ')}`,
  );
});

// --- Reading ----------------------------------------------------------------------------------

test('the dashboard shows the readiness report', async () => {
  await adminPage();
  await admin.goto(DASHBOARD);
  reportJson = await readiness(admin);
  const r = reportJson.readiness;

  assert.equal(await overall(admin), figure(r.overall), 'the overall score is the API\'s');
  const coverage = (await admin.textContent('[data-testid=coverage]')).replace(/\s+/g, ' ');
  assert.ok(
    coverage.includes(`${r.coverage.assessed} of ${r.coverage.total} clauses assessed`),
    `coverage is shown: ${coverage}`,
  );
  // The fix-first panel leads with what blocks stage 1, each linked to its finding.
  const fixFirst = admin.locator('section.fix-first');
  assert.ok(await fixFirst.isVisible(), 'the fix-first panel is visible');
  const firstBlocker = reportJson.findings.find((f) => f.blocks === 'stage-1');
  assert.ok(
    await fixFirst.locator(`a[href^="/orgs/demo/findings/${firstBlocker.id.replace('/', '--')}?"]`).count(),
    `the fix-first panel links ${firstBlocker.id}`,
  );
  for (const [label, verdict] of [['Stage 1', r.stage1], ['Stage 2', r.stage2]]) {
    const box = admin.locator('.verdict', { has: admin.locator('.label', { hasText: label }) });
    assert.equal(await box.count(), 1, `a ${label} verdict`);
    assert.ok(await box.isVisible(), `the ${label} verdict is visible`);
    const said = (await box.locator('.value').textContent()).trim();
    assert.equal(said, verdict.ready ? 'Ready' : 'Not ready', label);
    for (const reason of verdict.reasons) {
      assert.ok((await box.textContent()).includes(reason), `${label} gives the reason "${reason}"`);
    }
  }

  // A heat-map cell for every leaf clause, each linking to its clause page.
  const cells = admin.locator('svg.heatmap a');
  const leaves = r.clauses.filter((c) => c.leaf);
  assert.ok(await admin.locator('svg.heatmap').isVisible(), 'the heat map is visible');
  assert.equal(await cells.count(), leaves.length, 'one cell per leaf clause');
  for (const href of await cells.evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
    assert.match(href, /^\/orgs\/demo\/clauses\/[\d.]+\?as_of=2026-06-30$/);
  }
  await a11y.check(admin);

  // Its 9.3 cell opens the clause page, with the same score.
  await admin.click(`svg.heatmap a[href="/orgs/demo/clauses/9.3?as_of=${AS_OF}"]`);
  await admin.waitForURL(`**/orgs/demo/clauses/9.3?as_of=${AS_OF}`);
  assert.match(await admin.textContent('h1'), /^9\.3 Management review$/);
  const score = r.clauses.find((c) => c.clause === '9.3');
  const shown = (await admin.textContent('.page-head .big')).trim();
  assert.equal(shown, score.assessed ? `${Math.round(score.score)}/100` : 'not assessed');
  const findings = await admin.locator('#findings-title + ul a').evaluateAll((as) =>
    as.map((a) => new URL(a.href).pathname.split('/').pop()),
  );
  assert.ok(findings.includes(FINDING), `clause 9.3 lists ${FINDING}: ${findings}`);
  await a11y.check(admin);
});

test('a finding shows its evidence and how to fix it', async () => {
  await adminPage();
  reportJson ??= await readiness(admin);
  const finding = reportJson.findings.find((f) => f.check === FINDING);
  assert.ok(finding, `the demo has the finding ${FINDING}`);

  await admin.goto(DASHBOARD);
  // The dashboard links a finding from several panels, not all of them open.
  await admin.locator(`a[href="/orgs/demo/findings/${FINDING}?as_of=${AS_OF}"]:visible`).first().click();
  await admin.waitForURL(`**/orgs/demo/findings/${FINDING}?as_of=${AS_OF}`);
  assert.equal((await admin.textContent('h1')).trim(), finding.title);

  const evidence = admin.locator('section[aria-labelledby=evidence-title]');
  assert.ok(await evidence.locator('table').isVisible(), 'an evidence table');
  const rows = await evidence.locator('tbody tr').allTextContents();
  assert.equal(rows.length, finding.evidence.length, 'a row per piece of evidence');
  for (const [i, e] of finding.evidence.entries()) {
    assert.ok(rows[i].includes(e.id), `row ${i + 1} names ${e.id}: ${rows[i]}`);
  }

  // How many records are affected is said only where the check counts them.
  assert.equal(finding.affected, undefined, `${FINDING} does not count records`);
  assert.doesNotMatch(
    await evidence.textContent(),
    /records affected/,
    'no "N of M records affected" sentence for a finding without counts',
  );

  const steps = admin.locator('section[aria-labelledby=steps-title]');
  assert.equal((await steps.locator('h2').textContent()).trim(), 'How to fix it');
  assert.deepEqual(
    (await steps.locator('ol > li').allTextContents()).map((s) => s.trim()),
    finding.fix,
  );
  await a11y.check(admin);

  // A finding over tickets counts what it found and lists a sample.
  const counted = reportJson.findings.find((f) => f.affected !== undefined);
  assert.ok(counted, 'the demo has a finding that counts records');
  await admin.goto(`/orgs/demo/findings/${counted.check}?as_of=${AS_OF}`);
  assert.match(
    await admin.locator('section[aria-labelledby=evidence-title]').textContent(),
    new RegExp(`${counted.affected} of ${counted.population} records affected`),
  );
  await a11y.check(admin);
});

// --- Writing ----------------------------------------------------------------------------------

test('a management review added through the form raises the score', async () => {
  await adminPage();
  await admin.goto(DASHBOARD);
  // The unapproved policy caps the score below 50; beneath the cap the review counts.
  const before = (await readiness(admin)).readiness.uncapped;
  assert.ok(
    await admin.locator('a[href^="/orgs/demo/findings/mr-overdue?"]').count(),
    'the demo starts with no recent management review (mr-overdue)',
  );

  await admin.goto(`/orgs/demo/findings/${FINDING}?as_of=${AS_OF}`);
  await admin.click('section.fix-now a:text-is("Add management review")');
  await admin.waitForURL('**/orgs/demo/records/management-reviews/new');
  await a11y.check(admin);

  const form = admin.locator('form.record-form');
  await form.locator('input[name=id]').fill('MR-E2E-1');
  await form.locator('input[name=held_on]').fill('2026-06-20');
  // Attendees are picked from the people register.
  await form.locator('select[name=attendees]').selectOption(['h.strand', 'o.adeyemi']);
  const inputs = form.locator('input[type=checkbox][name=inputs]');
  const offered = await inputs.count();
  assert.ok(offered >= 6, `the inputs of a review are offered as checkboxes (${offered})`);
  for (let i = 0; i < offered; i++) await inputs.nth(i).check();
  await form.locator('button[type=submit]:text-is("Create")').click();

  await admin.waitForURL('**/orgs/demo/records/management-reviews/MR-E2E-1?saved=1');
  assert.match(await admin.textContent('[role=status]'), /Saved/);
  assert.equal(await admin.inputValue('input[name=id]'), 'MR-E2E-1');
  const picked = await form
    .locator('select[name=attendees]')
    .evaluate((el) => Array.from(el.selectedOptions, (o) => o.value));
  assert.deepEqual(picked, ['h.strand', 'o.adeyemi']);
  assert.equal(await form.locator('input[name=inputs]:checked').count(), offered);
  await a11y.check(admin);

  // The readiness report is recomputed in the background: wait for it.
  let now = before;
  const deadline = Date.now() + 10_000;
  for (;;) {
    now = (await readiness(admin)).readiness.uncapped;
    if (now > before || Date.now() > deadline) break;
    await admin.waitForTimeout(250);
  }
  assert.ok(now > before, `the score beneath the cap rose from ${before} (it is ${now})`);
  await admin.goto(DASHBOARD);
  assert.equal(
    await admin.locator('a[href^="/orgs/demo/findings/mr-overdue?"]').count(),
    0,
    'a review held on 2026-06-20 ends mr-overdue',
  );
  assert.equal(
    await overall(admin),
    figure((await readiness(admin)).readiness.overall),
    'the page agrees with the API',
  );
});

test('a draft document is approved from its lifecycle panel', async () => {
  await adminPage();
  await admin.goto(DRAFT);
  const lifecycle = admin.locator('section.lifecycle');
  assert.match(await lifecycle.locator('p', { hasText: 'Status:' }).textContent(), /Status:\s*draft/);
  await a11y.check(admin);

  const approve = lifecycle.locator('form', { has: admin.locator('input[name=action][value=approve]') });
  await approve.locator('select[name=approver]').selectOption('h.strand');
  await approve.locator('input[name=on]').fill('2026-06-15');
  await approve.locator('button[type=submit]:text-is("Approve")').click();

  await admin.waitForURL(`**${DRAFT}?saved=1`);
  assert.match(await admin.textContent('[role=status]'), /Saved/);
  assert.match(await lifecycle.locator('p', { hasText: 'Status:' }).textContent(), /Status:\s*current/);
  const approveForms = lifecycle.locator('input[name=action][value=approve]');
  assert.equal(await approveForms.count(), 0, 'nothing left to approve');
  assert.equal(await admin.inputValue('form.record-form [name=status]'), 'current');
  assert.equal(await admin.inputValue('form.record-form [name=approver]'), 'h.strand');
  assert.equal(await admin.inputValue('form.record-form [name=approved_on]'), '2026-06-15');
  await a11y.check(admin);
});

const POLICY = '/orgs/demo/records/policy/policy';
const E2E_SHOTS = path.join(__dirname, '..', 'target', 'ci', 'e2e');

test('the policy approver is picked from the people register; an unknown one is flagged beside the field', async () => {
  await adminPage();
  const fired = (report, check) => report.findings.some((f) => f.check === check);
  assert.ok(fired(await readiness(admin), 'policy-missing'), 'the demo policy starts unapproved');

  // The approver is a list of the people, by id, name and role, with an empty choice.
  await admin.goto(POLICY);
  const form = admin.locator('form.record-form');
  const approver = form.locator('select[name=approved_by]');
  const labels = await approver.locator('option').allTextContents();
  assert.equal(labels[0].trim(), '—', 'it may be left empty');
  const helena = labels.find((l) => /Helena Strand/.test(l));
  assert.ok(helena, `Helena Strand is offered: ${labels.join(' | ')}`);
  assert.match(helena, /^h\.strand — Helena Strand/);
  assert.ok(!labels.some((l) => /not in the register/.test(l)), 'the demo policy names no one unknown');
  await approver.selectOption({ label: helena });
  await approver.scrollIntoViewIfNeeded();
  await approver.focus();
  fs.mkdirSync(E2E_SHOTS, { recursive: true });
  await admin.screenshot({ path: path.join(E2E_SHOTS, 'policy-picker.png') });
  await a11y.check(admin);
  await form.locator('button[type=submit]:text-is("Save changes")').click();
  await admin.waitForURL(`**${POLICY}?saved=1`);
  assert.match(await admin.textContent('p.notice[role=status]'), /^Saved\. The readiness score/);
  assert.equal(await admin.inputValue('select[name=approved_by]'), 'h.strand');
  assert.equal(await admin.locator('.field-warning').count(), 0, 'nothing to warn of');
  assert.ok(!fired(await readiness(admin), 'policy-missing'), 'an approved policy ends policy-missing');

  // Someone not in the register, set through the API with the page's own session: kept, with a
  // warning in the answer and beside the field on the record page.
  const csrf = await admin.inputValue('form.record-form input[name=csrf]');
  const api = `/api/v1/orgs/demo/records/policy/policy`;
  const current = await (await admin.request.get(api)).json();
  const put = await admin.request.put(api, {
    headers: { 'X-CSRF-Token': csrf },
    data: { version: current.version, record: { ...current.record, approved_by: 'helena' } },
  });
  assert.equal(put.status(), 200, await put.text());
  assert.deepEqual((await put.json()).warnings, [
    { field: 'approved_by', message: 'names person helena, which is not in the people register' },
  ]);
  const report = await readiness(admin);
  assert.ok(fired(report, 'policy-missing'), 'a dangling approver approves nothing');
  assert.ok(fired(report, 'reference-unresolved'));

  await admin.goto(POLICY);
  const warning = admin.locator('#f-approved_by-warning');
  assert.equal(
    (await warning.textContent()).trim(),
    'Names person helena, which is not in the people register',
  );
  assert.equal(await warning.getAttribute('role'), 'status');
  assert.match(
    await admin.textContent('p.notice.warning'),
    /1 reference does not resolve: Approved by names person helena/,
  );
  assert.equal(await admin.inputValue('select[name=approved_by]'), 'helena', 'the value is kept');
  assert.equal(
    (await admin.locator('select[name=approved_by] option:checked').textContent()).trim(),
    'helena (not in the register)',
  );
  await warning.scrollIntoViewIfNeeded();
  await admin.screenshot({ path: path.join(E2E_SHOTS, 'policy-warning.png') });
  await admin.screenshot({ path: path.join(E2E_SHOTS, 'policy-warning-top.png'), fullPage: true });
  await a11y.check(admin);

  // Put the real approver back for whatever follows.
  await admin.selectOption('select[name=approved_by]', 'h.strand');
  await form.locator('button[type=submit]:text-is("Save changes")').click();
  await admin.waitForURL(`**${POLICY}?saved=1`);
  assert.equal(await admin.locator('.field-warning').count(), 0);
});

test('a viewer can read a record but not change it', async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(REVIEW);
  await signIn(page, VIEWER);
  assert.equal(here(page), decodeURIComponent(REVIEW));
  await a11y.check(page, 'viewer');

  // A viewer reads the record as text: no form to fill, no button that would fail.
  assert.equal(await page.locator('form.record-form').count(), 0, 'no edit form for a viewer');
  const view = page.locator('.record-view');
  assert.ok((await view.locator('dt').count()) > 0, 'the record is shown, field by field');
  assert.match(await view.innerText(), /Held on/, 'fields under their names in words');
  const versionLine = await page.locator('p.small', { hasText: 'Revision' }).textContent();
  assert.equal(await page.locator('button:text-is("Save changes")').count(), 0, 'no Save changes');
  assert.equal(await page.locator('button', { hasText: 'Delete' }).count(), 0, 'no Delete');
  assert.equal(await page.locator('input[type=file]').count(), 0, 'no evidence upload');

  // The role is checked on the server, not only in the page: a forged form with the viewer's own
  // valid CSRF token is refused.
  const forged = await page.evaluate(async (url) => {
    const csrf = document.querySelector('form[action="/logout"] input[name=csrf]').value;
    const body = new URLSearchParams({ csrf, _version: '1', id: 'MR-2025-2', decisions: 'Forged by a viewer' });
    const r = await fetch(url, { method: 'POST', body, redirect: 'manual' });
    return { status: r.status, csrf };
  }, REVIEW);
  assert.ok(forged.csrf, 'the page carries a CSRF token');
  assert.equal(forged.status, 403, 'a viewer\'s forged update is forbidden');

  // And the same as a browser would send it, from a form put into the page.
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.evaluate(({ url, csrf }) => {
      const f = document.createElement('form');
      f.method = 'post';
      f.action = url;
      for (const [name, value] of Object.entries({ csrf, _version: '1', id: 'MR-2025-2', decisions: 'Forged by a viewer' })) {
        const input = document.createElement('input');
        input.type = 'hidden';
        input.name = name;
        input.value = value;
        f.append(input);
      }
      document.body.append(f);
      f.submit();
    }, { url: REVIEW, csrf: forged.csrf }),
  ]);
  assert.equal(response.status(), 403);
  await page.waitForLoadState();
  assert.match(await page.textContent('h1'), /Forbidden/);
  await a11y.check(page, 'viewer');

  // Nor can a viewer approve a document, create a record or open the new-record form.
  const posts = await page.evaluate(async ({ draft, csrf }) => {
    const post = (url, fields) =>
      fetch(url, { method: 'POST', body: new URLSearchParams({ csrf, ...fields }), redirect: 'manual' })
        .then((r) => r.status);
    return {
      approve: await post(`${draft}/lifecycle`, {
        action: 'approve',
        approver: 'h.strand',
        on: '2026-06-15',
      }),
      create: await post('/orgs/demo/records/management-reviews', {
        id: 'MR-VIEWER',
        held_on: '2026-06-01',
      }),
      form: (await fetch('/orgs/demo/records/management-reviews/new')).status,
    };
  }, { draft: DRAFT, csrf: forged.csrf });
  assert.deepEqual(posts, { approve: 403, create: 403, form: 403 });

  await page.goto(REVIEW);
  assert.equal(
    await page.locator('p.small', { hasText: 'Revision' }).textContent(),
    versionLine,
    'the record did not change',
  );
  assert.doesNotMatch(await page.locator('.record-view').innerText(), /Forged by a viewer/, 'no forged decision');
  await page.goto('/orgs/demo/records/management-reviews');
  assert.equal(await page.locator('a', { hasText: 'Add management review' }).count(), 0);
  await a11y.check(page, 'viewer');

  // Signing out ends the session: the record is behind the sign-in again.
  await page.click('form[action="/logout"] button[type=submit]');
  await page.waitForURL('**/login');
  await page.goto(REVIEW);
  assert.equal(new URL(page.url()).pathname, '/login', 'signed out');
  await context.close();
});

// --- Working through the findings -------------------------------------------------------------

test('a process owner lands on My work, reviews an overdue document and sees it leave the list', async () => {
  // The rest of the team has reviewed their overdue documents; the owner's one is left.
  const team = await adminPage();
  const report = await readiness(team);
  const overdue = report.findings.find((f) => f.check === 'doc-review-overdue');
  assert.ok(overdue, 'the demo has documents past their review date');
  const ids = new Set(overdue.evidence.map((e) => e.id));
  const listed = await (await team.request.get('/api/v1/orgs/demo/records/documents?limit=1000')).json();
  const current = listed.items.filter((r) => ids.has(r.record.id) && r.record.status === 'current');
  const mine = current.filter((r) => r.record.owner === 'c.dunmore');
  assert.ok(mine.length >= 1, 'the owner has an overdue document');
  for (const r of current.filter((r) => r.record.owner !== 'c.dunmore')) {
    await team.goto(`/orgs/demo/records/documents/${encodeURIComponent(r.key)}`);
    await team.fill('#reviewed-on', AS_OF);
    await Promise.all([team.waitForURL(/saved=1/), team.click('form:has(input[value=reviewed]) button')]);
  }
  const before = (await readiness(team)).readiness;

  const context = await newContext(browser);
  const page = await context.newPage();
  await signIn(page, OWNER);
  assert.equal(here(page), '/orgs/demo/my', 'a process owner lands on My work');
  assert.match(await page.textContent('h1'), /My work: Callum Dunmore/);
  await a11y.check(page, 'owner');
  const late = page.locator('section[aria-labelledby=late-title] li', { hasText: 'Review a document' });
  assert.ok((await late.count()) >= 1, 'their overdue document, under Late');
  const title = (await late.first().locator('a').innerText()).trim();
  await late.first().locator('a').click();
  assert.match(here(page), /^\/orgs\/demo\/records\/documents\//, 'the document itself, not the register');
  await page.fill('#reviewed-on', AS_OF);
  await Promise.all([page.waitForURL(/saved=1/), page.click('form:has(input[value=reviewed]) button')]);
  assert.match(await page.textContent('[role=status]'), /Saved/);

  await page.goto('/orgs/demo/my');
  assert.equal(
    await page.locator('ul.work li', { hasText: title }).count(),
    0,
    `${title} has left My work`,
  );
  const after = (await readiness(page)).readiness;
  assert.ok(
    after.uncapped > before.uncapped,
    `the score moved: ${before.uncapped} before the owner's review, ${after.uncapped} after`,
  );
  const still = (await readiness(page)).findings.find((f) => f.check === 'doc-review-overdue');
  assert.equal(still, undefined, 'no document is past its review date any more');
  await page.goto('/orgs/demo');
  assert.match(await page.textContent('h1'), /readiness/i, 'the dashboard is one click away');
  await context.close();
});

test('the auditor edits an audit with findings: adds one, removes one, saves', async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  await signIn(page, AUDITOR);
  await page.goto('/orgs/demo/records/audits/IA-2024-01');
  await a11y.check(page, 'auditor');
  const rows = page.locator('fieldset.row:not(.blank)');
  const count = await rows.count();
  assert.ok(count >= 2, 'the audit has findings');
  const legends = await rows.locator('legend').allInnerTexts();
  assert.deepEqual(legends.slice(0, 2), ['Finding 1', 'Finding 2'], 'rows are named in words');
  assert.equal(await page.locator('fieldset.row.blank legend', { hasText: 'Add a finding (leave blank for none)' }).count(), 1);
  // Dates are year-month-day whatever the browser's locale.
  assert.match(await page.inputValue('input[name=held_on]'), /^\d{4}-\d{2}-\d{2}$/);

  const removed = await page.inputValue('input[name="findings.1.id"]');
  await page.check('input[name="findings.1._remove"]');
  const blank = count;
  await page.fill(`input[name="findings.${blank}.id"]`, 'IA-2024-01-F9');
  await page.selectOption(`select[name="findings.${blank}.grade"]`, 'minor');
  await page.selectOption(`select[name="findings.${blank}.clause"]`, '8.2.3');
  await page.fill(`input[name="findings.${blank}.statement"]`, 'Two SLAs were not reviewed in the year');
  await Promise.all([page.waitForURL(/saved=1/), page.click('button:text-is("Save changes")')]);
  assert.match(await page.textContent('[role=status]'), /Saved/);
  const ids = await page.locator('fieldset.row:not(.blank) input[name$=".id"]').evaluateAll((els) => els.map((e) => e.value));
  assert.ok(ids.includes('IA-2024-01-F9'), `the new finding is there: ${ids}`);
  assert.ok(!ids.includes(removed), `${removed} was removed`);
  assert.equal(ids.length, count, 'one added, one removed');
  // Saving again, nothing changed, still works: the blank row is ignored.
  await Promise.all([page.waitForURL(/saved=1/), page.click('button:text-is("Save changes")')]);
  assert.match(await page.textContent('[role=status]'), /Saved/);
  await context.close();
});

test('on a phone the header stays compact and no page is wider than the screen', async () => {
  const context = await browser.newContext({ baseURL: new URL(admin.url()).origin, viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await signIn(page, ADMIN);
  for (const p of [DASHBOARD, '/orgs/demo/records/changes', '/orgs/demo/records/audits/IA-2024-01', '/orgs/demo/metrics', '/orgs/demo/plan', '/orgs/demo/trail', '/orgs/demo/members', `/orgs/demo/audit-programme?as_of=${AS_OF}`, '/orgs/demo/audits/IA-2025-01']) {
    await page.goto(p);
    const header = await page.locator('header.top').boundingBox();
    assert.ok(header.height <= 110, `${p}: the header is ${header.height}px high`);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 390, `${p}: the page is ${wide}px wide at 390px`);
  }
  await context.close();
});

// --- Accessibility ----------------------------------------------------------------------------

// Every page of the UI; the tests above visit most of them already.
const PAGES = [
  '/login',
  DASHBOARD,
  `/orgs/demo/clauses/9.3?as_of=${AS_OF}`,
  `/orgs/demo/findings/${FINDING}?as_of=${AS_OF}`,
  '/orgs/demo/kb',
  '/orgs/demo/kb/F-001',
  '/orgs/demo/records',
  '/orgs/demo/records/management-reviews',
  REVIEW,
  '/orgs/demo/records/management-reviews/new',
  '/orgs',
  // Pages added since the brief: the ticket figures, the RACI grid, the ticket import, a
  // document with its lifecycle panel and a checklist answer form.
  '/orgs/demo/metrics',
  '/orgs/demo/raci',
  '/orgs/demo/tickets/import',
  '/orgs/demo/records/documents/POL-001%2F3.0',
  '/orgs/demo/records/checklist/new?pattern=F-012',
  // Work pages: My work, the members, the audit trail, a register of audits.
  '/orgs/demo/my',
  '/orgs/demo/plan',
  '/orgs/demo/plan?grade=major&late=1',
  '/orgs/demo/members',
  '/orgs/demo/trail',
  '/orgs/demo/records/audits/IA-2024-01',
  '/orgs/demo/records/continuity-plans/new?services=SVC-SOC',
  // The registers searched, filtered and sorted, and the documents' bulk review.
  '/orgs/demo/records/changes?type=emergency&sort=findings&dir=desc',
  '/orgs/demo/records/incidents?q=svc&priority=1',
  '/orgs/demo/records/documents?overdue=yes',
  '/orgs/demo/records/changes/CHG0004498',
  // The internal audit: the programme, the audits, one audit, a new one from a gap, two days.
  `/orgs/demo/audit-programme?as_of=${AS_OF}`,
  '/orgs/demo/audits',
  '/orgs/demo/audits/IA-2025-01',
  '/orgs/demo/audits/new?process=budget&planned_on=2026-10-01',
  '/orgs/demo/diff',
];

test('no page has a serious or critical accessibility violation', async (t) => {
  await adminPage();
  for (const p of PAGES) {
    if (a11y.visited(p)) continue;
    if (p === '/login') {
      const page = await (await newContext(browser)).newPage();
      await page.goto(p);
      await a11y.check(page, 'signed-out');
      await page.context().close();
    } else {
      const response = await admin.goto(p);
      assert.equal(response.status(), 200, p);
      await a11y.check(admin);
    }
  }
  for (const line of a11y.report(false)) t.diagnostic(`(not failing) ${line}`);
  t.diagnostic(`checked ${a11y.pages.size} pages with axe-core`);
  const failing = a11y.report(true);
  assert.ok(
    failing.length === 0,
    `${a11y.count(true)} serious or critical accessibility violations:\n${failing.join('\n')}`,
  );
});

'use strict';
// The internal auditor's week, in a real Chromium against the demo server .ci/e2e starts: plan
// an audit from a gap in the programme, draw a statistical sample of changes, test each item,
// roll the failures into a finding, raise a nonconformity from it, have the process owner
// correct it, find a cause and act, be refused closure before the effectiveness check, verify
// it, close it, and download the audit's report. node runs the files in name order, so this
// one comes after ui.test.js, whose screenshots need the demo's records as they were.

const assert = require('node:assert/strict');
const { after, before, test } = require('node:test');

const { OWNER, AUDITOR, launch, newContext, signIn, Accessibility } = require('./helpers');

const a11y = new Accessibility();
let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

/** Submits the form holding `button` and waits for the page it leads to. */
async function submit(page, button) {
  await Promise.all([page.waitForNavigation(), page.click(button)]);
}

test("the internal auditor's week: programme gap to verified, closed nonconformity and the report", async () => {
  const auditorContext = await newContext(browser);
  const auditor = await auditorContext.newPage();
  await signIn(auditor, AUDITOR);

  // 1. The programme shows the change process (rated high risk) with a gap in a year of the
  // cycle; plan an audit from it.
  await auditor.goto('/orgs/demo/audit-programme');
  assert.equal(await a11y.check(auditor, 'auditor').then((v) => v.length), 0, 'programme: accessible');
  const gap = auditor.locator('a.plan-link', { hasText: 'of change in year' }).first();
  assert.ok((await gap.count()) > 0, 'the change process has a gap to plan');
  await Promise.all([auditor.waitForNavigation(), gap.click()]);
  assert.match(new URL(auditor.url()).pathname, /\/orgs\/demo\/audits\/new$/);
  const processes = await auditor.locator('select[name=processes]').evaluate((s) =>
    [...s.selectedOptions].map((o) => o.value),
  );
  assert.deepEqual(processes, ['change'], 'the gap fills in the process');
  const planned = await auditor.inputValue('input[name=planned_on]');
  assert.match(planned, /^\d{4}-\d{2}-\d{2}$/, 'and a day in that year');
  const auditId = (await auditor.inputValue('input[name=id]')) || 'IA-2026-09';
  await auditor.fill('input[name=id]', auditId);
  await auditor.fill('input[name=title]', 'Change management: emergency and normal changes');
  await auditor.selectOption('select[name=auditor]', 'z.hollis');
  await auditor.fill('textarea[name=objectives]', 'To establish whether changes are approved, tested and reviewed as PRC-005 requires.');
  await auditor.fill('textarea[name=criteria]', 'ISO/IEC 20000-1:2018 clause 8.5.1; the change procedure PRC-005.');
  await auditor.fill('textarea[name=method]', 'A statistical sample of the changes of the first half of 2026, each tested against PRC-005.');
  await submit(auditor, 'button:text-is("Create the audit")');
  const auditPath = new URL(auditor.url()).pathname;
  assert.equal(auditPath, `/orgs/demo/audits/${auditId}`);

  // 2. Draw a statistical sample of the changes: 90 % confidence, 10 % tolerable rate, 22 items.
  await auditor.click('summary:text-is("Draw a sample")');
  await auditor.selectOption('#d-kind', 'changes');
  await auditor.fill('#d-from', '2026-01-01');
  await auditor.fill('#d-to', '2026-06-30');
  await auditor.check('form[action$="/samples"] input[name=method][value=statistical]');
  await auditor.selectOption('#d-confidence', '0.90');
  await auditor.selectOption('#d-tdr', '0.10');
  await auditor.fill('#d-seed', '20261204');
  await submit(auditor, 'button:text-is("Draw the sample")');
  assert.match(new URL(auditor.url()).pathname, new RegExp(`^${auditPath}/samples/S1$`));
  assert.equal(await a11y.check(auditor, 'auditor').then((v) => v.length), 0, 'sample: accessible');
  const items = await auditor.locator('input[type=hidden][name^="item."]').evaluateAll((els) => els.map((e) => e.value));
  assert.equal(items.length, 22, 'a 90 %/10 % sample of 27 changes is 22 items');
  assert.equal(new Set(items).size, 22, 'no change is drawn twice');

  // The same definition and seed draw the same items again (through the API).
  const again = await auditor.request.get(`/api/v1/orgs/demo/records/audits/${auditId}`);
  assert.equal(again.status(), 200);
  const stored = (await again.json()).record.samples[0];
  assert.deepEqual(stored.items.map((i) => i.id), items, 'the sample is kept in draw order');
  assert.equal(stored.seed, 20261204);

  // 3. Test each item: two have no review after an emergency change.
  const failing = items.slice(0, 2);
  for (let i = 0; i < items.length; i++) {
    const value = i < 2 ? 'does-not-conform' : 'conforms';
    await auditor.check(`input[name="result.${i}"][value=${value}]`);
    if (i < 2) {
      await auditor.fill(`input[name="note.${i}"]`, 'No post-implementation review recorded');
    }
  }
  await submit(auditor, 'button:text-is("Save the results")');
  const tally = await auditor.textContent('main');
  assert.match(tally, /20 conform/);
  assert.match(tally, /2 do not/);

  // 4. Roll the failures into a finding, with the figures.
  const statement = await auditor.inputValue('#r-statement');
  assert.match(statement, /2 of 22/, `the statement carries the figures: ${statement}`);
  await auditor.selectOption('#r-grade', 'minor');
  await auditor.selectOption('#r-clause', '8.5.1.3');
  await submit(auditor, 'button:text-is("Create the finding")');
  await auditor.goto(auditPath);
  const card = auditor.locator('article.finding-card').last();
  const cardText = await card.innerText();
  assert.match(cardText, /2 of 22/);
  for (const id of failing) {
    assert.ok(cardText.includes(id), `the finding cites ${id} as evidence`);
  }
  const findingId = (await card.getAttribute('id')).replace(/^finding-/, '');

  // 5. Raise a nonconformity from the finding in one click; the two records link both ways.
  await submit(auditor, `#finding-${findingId} button:has-text("Raise a nonconformity")`);
  const ncPath = new URL(auditor.url()).pathname;
  assert.match(ncPath, /^\/orgs\/demo\/nonconformities\/NC-\d{4}-\d{2}$/);
  const ncId = decodeURIComponent(ncPath.split('/').pop());
  assert.ok((await auditor.textContent('main')).includes(findingId), 'the nonconformity names its finding');
  await auditor.goto(auditPath);
  assert.ok(
    (await auditor.locator(`#finding-${findingId} a[href$="/nonconformities/${ncId}"]`).count()) === 1,
    'the finding links to its nonconformity',
  );

  // 6. The process owner (Callum Dunmore owns change) corrects it, finds the cause and acts.
  const ownerContext = await newContext(browser);
  const owner = await ownerContext.newPage();
  await signIn(owner, OWNER);
  await owner.goto(ncPath);
  assert.equal(await a11y.check(owner, 'owner').then((v) => v.length), 0, 'nonconformity: accessible');
  const open = async (page, selector) =>
    page.locator(`details:has(${selector})`).evaluateAll((ds) => ds.forEach((d) => (d.open = true)));
  await open(owner, '#correction-text');
  await owner.fill('#correction-text', 'Post-implementation reviews held for the two changes');
  await submit(owner, 'button:text-is("Save the correction")');
  await open(owner, '#root-cause-text');
  await owner.fill('#root-cause-text', 'The tool closes emergency changes before the review task is created.');
  await owner.selectOption('#root-cause-method', { label: '5 whys' }).catch(() => owner.selectOption('#root-cause-method', 'five-whys'));
  await submit(owner, 'button:text-is("Save the root cause")');
  await open(owner, '#action-description');
  await owner.fill('#action-description', 'Require a completed review task before an emergency change closes');
  await owner.selectOption('#action-owner', 'c.dunmore');
  await owner.fill('#action-due', '2027-01-31');
  await submit(owner, 'button:text-is("Add the action")');
  await submit(owner, 'button:text-is("Mark implemented")');
  const afterOwner = await owner.textContent('main');
  assert.match(afterOwner, /implemented/i);
  await ownerContext.close();

  // 7. Closure is refused before the effectiveness check: the page says why, and the server
  // refuses the form even when it is sent anyway.
  await auditor.goto(ncPath);
  const blockers = await auditor.locator('#close ul.blockers').innerText();
  assert.match(blockers, /no effectiveness check has found that the actions worked/i);
  assert.ok(await auditor.locator('#close button[type=submit]').isDisabled(), 'the close button waits');
  await auditor.locator('#close button[type=submit]').evaluate((b) => b.removeAttribute('disabled'));
  await submit(auditor, '#close button[type=submit]');
  assert.match(await auditor.textContent('#close'), /cannot be closed yet/);
  const still = await auditor.request.get(`/api/v1/orgs/demo/records/nonconformities/${ncId}`);
  assert.ok(!(await still.json()).record.closed_on, 'nothing was closed');

  // 8. Verify: the check finds the actions worked; then it closes.
  await open(auditor, '#checked-by');
  await auditor.selectOption('#checked-by', 'z.hollis');
  await auditor.check('input[name=result][value=effective]');
  await auditor.fill('#check-note', 'Ten emergency changes since the fix, each with its review');
  await submit(auditor, 'button:text-is("Save the check")');
  assert.equal(await auditor.locator('#close ul.blockers').count(), 0, 'nothing stands in the way');
  await submit(auditor, `#close button:text-is("Close ${ncId}")`);
  assert.match(await auditor.textContent('#close'), /Closed on \d{4}-\d{2}-\d{2}/);
  const closed = await (await auditor.request.get(`/api/v1/orgs/demo/records/nonconformities/${ncId}`)).json();
  assert.match(closed.record.closed_on, /^\d{4}-\d{2}-\d{2}$/);
  await auditor.goto('/orgs/demo/nonconformities');
  assert.equal(await a11y.check(auditor, 'auditor').then((v) => v.length), 0, 'board: accessible');

  // 9. Download the audit report: the sample, the finding and its nonconformity are in it.
  await auditor.goto(auditPath);
  assert.equal(await a11y.check(auditor, 'auditor').then((v) => v.length), 0, 'audit: accessible');
  const html = await auditor.request.get(`${auditPath}/report.html`);
  assert.equal(html.status(), 200);
  const report = await html.text();
  for (const part of ['1. Objectives', '6. Samples', '22 of 22 tested: 20 conform, 2 do not', findingId, `${ncId}: closed`]) {
    assert.ok(report.includes(part), `the report has ${part}`);
  }
  const link = await auditor.locator(`a[href$="${auditId}/report.pdf"]`).first().getAttribute('href');
  const pdf = await auditor.request.get(link);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  assert.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-', 'the PDF report downloads');

  assert.equal(a11y.count(true), 0, a11y.report(true).join('\n'));
  await auditorContext.close();
});

import { expect, test } from '@playwright/test';
import { hydrated, signUp } from './helpers';

test('a segment built in the browser shows its live count as the rules change', async ({ page }) => {
  await signUp(page, 'Sam Segment');
  for (const lead of [
    { name: 'Ada Hot', email: 'ada@hot.example', score: 90, tags: ['vip'] },
    { name: 'Bob Warm', email: 'bob@warm.example', score: 55 },
    { name: 'Cy Cold', email: 'cy@cold.example', score: 10, tags: ['vip'] },
    { name: 'Dee Cold', score: 5, source: 'referral' },
  ]) {
    const response = await page.request.post('/api/v1/leads', { data: lead });
    expect(response.status()).toBe(201);
  }

  await page.goto('/segments/new');
  await hydrated(page);
  const count = page.getByTestId('segment-count');
  await expect(count).toHaveText('4');

  await page.getByRole('button', { name: '+ Condition' }).click();
  const rule = page.getByTestId('rule').first();
  await expect(rule.getByLabel('Field')).toHaveValue('score');
  await rule.getByLabel('Value').fill('50');
  await rule.getByLabel('Value').press('Tab');
  await expect(count).toHaveText('2');
  await expect(page.getByTestId('segment-sample')).toContainText('Ada Hot');
  await expect(page.getByTestId('segment-sample')).not.toContainText('Cy Cold');

  // Widen with an "any" group: score ≥ 50, or tagged vip.
  await page.getByLabel('Match').first().selectOption('any');
  await page.getByRole('button', { name: '+ Condition' }).first().click();
  const second = page.getByTestId('rule').nth(1);
  await second.getByLabel('Field').selectOption('tags');
  await second.getByLabel('Value').fill('VIP');
  await second.getByLabel('Value').press('Tab');
  await expect(count).toHaveText('3');

  // A bad value is explained, not silently counted.
  await rule.getByLabel('Value').fill('lots');
  await rule.getByLabel('Value').press('Tab');
  await expect(page.getByTestId('segment-preview')).toContainText('compares with a number');
  await page.getByTestId('rule').first().getByLabel('Value').fill('50');
  await page.getByTestId('rule').first().getByLabel('Value').press('Tab');
  await expect(count).toHaveText('3');

  await page.getByLabel('Segment name').fill('Hot or VIP');
  await page.getByRole('button', { name: 'Save segment' }).click();
  await expect(page).toHaveURL(/\/lists\/[0-9a-f-]+$/);
  await hydrated(page);
  await expect(page.getByTestId('segment-count')).toHaveText('3');

  // A new matching lead raises the count on the next look.
  await page.request.post('/api/v1/leads', { data: { name: 'Eve New', score: 70 } });
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('segment-count')).toHaveText('4');

  await page.goto('/audience');
  await hydrated(page);
  const row = page.getByTestId('lists').getByRole('row', { name: /Hot or VIP/ });
  await expect(row).toContainText('Segment');
  await expect(row).toContainText('4');
});

test('a CSV import is mapped, runs in the background and reports bad rows by line', async ({ page }) => {
  await signUp(page, 'Ivy Import');
  await page.goto('/imports');
  await hydrated(page);
  const csv = [
    'Full Name,E-mail,Company,Score',
    'Grace Hopper,grace@navy.example,Navy,80',
    'Broken Row,broken@x.example',
    'Alan Turing,alan@bletchley.example,Bletchley,notanumber',
    'Katherine Johnson,kj@nasa.example,NASA,95',
  ].join('\n');
  await page.getByLabel('File (CSV or JSON)').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page).toHaveURL(/\/imports\/[0-9a-f-]+$/);
  await hydrated(page);
  await expect(page.getByTestId('import-status')).toHaveText('mapping');
  await expect(page.getByLabel('Map E-mail')).toHaveValue('email');
  await expect(page.getByLabel('Map Full Name')).toHaveValue('name');
  await page.getByLabel('Map Company').selectOption('');
  await page.getByRole('button', { name: 'Start import' }).click();

  await expect(page.getByTestId('import-status')).toHaveText('completed', { timeout: 30_000 });
  await expect(page.getByTestId('import-progress')).toHaveAttribute('value', '100');
  await expect(page.getByTestId('rows-created')).toHaveText('2');
  await expect(page.getByTestId('rows-failed')).toHaveText('2');
  const errors = page.getByTestId('import-errors');
  await expect(errors.getByRole('row', { name: /^3 / })).toContainText('expected 4 fields');
  await expect(errors.getByRole('row', { name: /^4 / })).toContainText('not a whole number');

  await page.goto('/leads');
  await hydrated(page);
  await expect(page.getByRole('link', { name: 'Katherine Johnson' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Broken Row' })).toHaveCount(0);
});

import { expect, test } from '@playwright/test';
import { hydrated, signUp } from './helpers';

test('stages are added, reordered and removed', async ({ page }) => {
  await signUp(page, 'Stella Stages');
  await page.goto('/settings/stages');
  await hydrated(page);
  const rows = page.getByTestId('stages').locator('tbody tr');
  await expect(rows).toHaveCount(6);
  await page.getByLabel('Name', { exact: true }).fill('Demo');
  await page.getByLabel('Key').fill('demo');
  await page.getByLabel('Probability %', { exact: true }).fill('35');
  await page.getByRole('button', { name: 'Add stage' }).click();
  await expect(rows).toHaveCount(7);
  await expect(rows.nth(6)).toContainText('Demo');
  await page.getByRole('button', { name: 'Move Demo up' }).click();
  await expect(rows.nth(5)).toContainText('Demo');
  await page.getByRole('button', { name: 'Delete Demo' }).click();
  await expect(rows).toHaveCount(6);
  await expect(page.getByTestId('stages')).not.toContainText('Demo');
});

test('a declared choice field is offered by the segment builder with its options', async ({ page }) => {
  await signUp(page, 'Cass Fields');
  await page.goto('/settings/custom-fields');
  await hydrated(page);
  const declare = page.locator('section.card', { hasText: 'Declare a field' });
  await declare.getByLabel('Key').fill('plan');
  await declare.getByLabel('Label').fill('Plan');
  await declare.getByLabel('Type').selectOption('choice');
  await declare.getByLabel(/Options/).fill('Free\nPro');
  await declare.getByLabel('Indexed').check();
  await declare.getByRole('button', { name: 'Declare field' }).click();
  const rows = page.getByTestId('custom-fields').locator('tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('Free, Pro');
  await expect(rows.first()).toContainText('yes');
  // A misfit declaration is refused with the reason.
  await declare.getByLabel('Key').fill('seats');
  await declare.getByLabel('Type').selectOption('choice');
  await declare.getByLabel(/Options/).fill('');
  await declare.getByRole('button', { name: 'Declare field' }).click();
  await expect(declare.getByRole('alert')).toContainText('options');

  await page.goto('/segments/new');
  await hydrated(page);
  await page.getByRole('button', { name: '+ Condition' }).click();
  await page.getByLabel('Field').selectOption({ label: 'Plan' });
  await page.getByLabel('Value').selectOption('Pro');
  await expect(page.getByTestId('segment-count')).toHaveText('0');
  await expect(page.getByLabel('Operator')).toContainText('is set');
});

test('tasks are added and completed', async ({ page }) => {
  await signUp(page, 'Tess Tasks');
  await page.goto('/tasks');
  await hydrated(page);
  await expect(page.getByText('Nothing to do.')).toBeVisible();
  await page.getByLabel('Task', { exact: true }).fill('Call Ada back');
  await page.getByLabel('Due').fill('2026-12-01');
  await page.getByRole('button', { name: 'Add task' }).click();
  await expect(page.getByTestId('tasks')).toContainText('Call Ada back');
  await expect(page.getByTestId('tasks')).toContainText('12/01/2026 09:00 UTC');
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByText('Nothing to do.')).toBeVisible();
  await page.getByLabel('Show done tasks').check();
  await expect(page.getByTestId('tasks')).toContainText('done');
});

test('a lead is edited and deleted', async ({ page }) => {
  await signUp(page, 'Lee Edits');
  await page.goto('/leads');
  await hydrated(page);
  const addLead = page.locator('section.card', { hasText: 'Add a lead' });
  await addLead.getByLabel('Lead name').fill('Edit Me');
  await addLead.getByRole('button', { name: 'Add lead' }).click();
  await page.getByTestId('leads').getByRole('link', { name: 'Edit Me' }).click();
  await expect(page.getByTestId('lead-status')).toHaveText('new');
  const edit = page.locator('section.card', { hasText: 'Edit' }).first();
  await edit.getByLabel('Status').selectOption('qualified');
  await edit.getByLabel('Score').fill('80');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('lead-status')).toHaveText('qualified');
  await expect(page.getByTestId('timeline')).toContainText('Status changed from new to qualified');
  await page.getByRole('button', { name: 'Delete lead' }).click();
  await expect(page).toHaveURL(/\/leads$/);
  await expect(page.getByText('No leads match.')).toBeVisible();
});

test('a contact is linked to a company with a role, re-roled and unlinked', async ({ page }) => {
  await signUp(page, 'Cora Contacts');
  await page.goto('/companies/new');
  await hydrated(page);
  await page.getByLabel('Name').fill('Acme Widgets');
  await page.getByRole('button', { name: 'Create company' }).click();
  await expect(page.getByTestId('company-name')).toHaveText('Acme Widgets');

  await page.goto('/contacts');
  await hydrated(page);
  await page.getByLabel('Contact name').fill('Ada Link');
  await page.getByRole('button', { name: 'Add contact' }).click();
  await page.getByTestId('contacts').getByRole('link', { name: 'Ada Link' }).click();
  await expect(page.getByTestId('contact-name')).toHaveText('Ada Link');
  await hydrated(page);

  await page.getByLabel('Add to company').selectOption({ label: 'Acme Widgets' });
  await page.getByLabel('As').fill('Champion');
  await page.getByRole('button', { name: 'Link company' }).click();
  const role = page.getByLabel('Role at Acme Widgets');
  await expect(role).toHaveValue('Champion');
  await role.fill('Economic buyer');
  await page.getByRole('button', { name: 'Save role' }).click();
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel('Role at Acme Widgets')).toHaveValue('Economic buyer');
  await page.getByRole('button', { name: 'Remove Acme Widgets' }).click();
  await expect(page.getByTestId('memberships')).not.toContainText('Acme Widgets');
});

test('a deal is created from the board', async ({ page }) => {
  await signUp(page, 'Dee Deals');
  await page.goto('/pipeline');
  await hydrated(page);
  await page.getByText('New deal').click();
  await page.getByLabel('Deal name').fill('Board-made deal');
  await page.getByLabel('Deal stage').selectOption({ label: 'Proposal' });
  await page.getByLabel('Deal amount').fill('1,500.25');
  await page.getByRole('button', { name: 'Create deal' }).click();
  const proposal = page.locator('section.column[data-stage="proposal"]');
  await expect(proposal.locator('.deal-card[data-deal="Board-made deal"]')).toBeVisible();
  await expect(proposal).toContainText('1,500.25 USD');
});

test('the owner moves the workspace to another time zone and grants an approving key', async ({ page }) => {
  await signUp(page, 'Zoe Zones');
  await page.goto('/settings/workspace');
  await hydrated(page);
  await expect(page.getByLabel('Time zone')).toHaveValue('UTC');
  await page.getByLabel('Time zone').selectOption('Europe/Paris');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toContainText('Europe/Paris');
  const workspace = await (await page.request.get('/api/v1/workspace')).json();
  expect(workspace.time_zone).toBe('Europe/Paris');

  // German formats: money, dates and times are written the workspace's way.
  await page.getByLabel('Numbers, money and dates').selectOption('de-DE');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toContainText('de-DE');
  expect((await page.request.post('/api/v1/deals', { data: { name: 'Euro deal', amount_cents: 150025, currency: 'EUR', expected_close_date: '2027-01-31' } })).status()).toBe(201);
  await page.goto('/pipeline');
  await hydrated(page);
  await expect(page.locator('.deal-card[data-deal="Euro deal"]')).toContainText('1.500,25 EUR');
  await page.locator('.deal-card[data-deal="Euro deal"]').getByRole('link').click();
  await expect(page.getByTestId('deal-amount')).toHaveText('1.500,25 EUR');
  await expect(page.locator('dl.facts')).toContainText('31.01.2027');
  await expect(page.locator('dl.facts')).toContainText(/\d\d\.\d\d\.20\d\d \d\d:\d\d (CET|CEST)/);
  // Amounts are typed the German way too: the form shows 1500,25 and
  // reads 9.000,50 as nine thousand.
  await expect(page.getByLabel('Amount')).toHaveValue('1500,25');
  await page.getByLabel('Amount').fill('9.000,50');
  await page.getByRole('button', { name: 'Save deal' }).click();
  await expect(page.getByTestId('deal-amount')).toHaveText('9.000,50 EUR');
  await page.getByLabel('Amount').fill('9,000.50');
  await page.getByRole('button', { name: 'Save deal' }).click();
  await expect(page.getByRole('alert')).toContainText('9.000,50');

  // Only an owner grants marketing:approve; the key then signs off sends.
  await page.goto('/settings/api-keys');
  await hydrated(page);
  await page.getByLabel('Name').fill('Approving agent');
  await page.getByLabel('marketing:approve').check();
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByRole('alert')).toContainText('grant both');
  await page.getByLabel('marketing:write', { exact: true }).check();
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByTestId('api-key-secret')).toBeVisible();
  await expect(page.getByRole('row', { name: /Approving agent/ })).toContainText('marketing:approve');
});

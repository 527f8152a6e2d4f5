import { expect, Page, test } from '@playwright/test';
import { hydrated, signUp } from './helpers';

async function newCompany(page: Page, name: string, fill?: (page: Page) => Promise<void>) {
  await page.goto('/companies/new');
  await hydrated(page);
  await page.getByLabel('Name').fill(name);
  if (fill) await fill(page);
  await page.getByRole('button', { name: 'Create company' }).click();
  await expect(page.getByTestId('company-name')).toHaveText(name);
  await hydrated(page);
}

test('a subsidiary with firmographics links to its parent, and activity is logged on it', async ({ page }) => {
  await signUp(page, 'Paula Parent');
  await newCompany(page, 'Globex Holdings');
  await newCompany(page, 'Globex Labs', async (page) => {
    await page.getByLabel('Parent company').selectOption({ label: 'Globex Holdings' });
    await page.getByLabel('Industry').fill('Robotics');
    await page.getByLabel('Employees').fill('120');
    await page.getByLabel('Annual revenue').fill('2,500,000');
    await page.getByLabel('City').fill('Lyon');
    await page.getByLabel('Country').fill('France');
  });
  const facts = page.getByTestId('company-facts');
  await expect(facts).toContainText('Robotics');
  await expect(facts).toContainText('120');
  await expect(facts).toContainText('2,500,000.00');
  await expect(facts).toContainText('Lyon, France');
  await expect(facts).toContainText('Paula Parent');

  // Editing clears a field and keeps the rest.
  await page.getByText('Edit company').click();
  await page.getByLabel('Industry').fill('');
  await page.getByLabel('Employees').fill('150');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
  await expect(facts).toContainText('150');
  await expect(facts).not.toContainText('Robotics');

  const activities = page.getByTestId('activities');
  await activities.getByLabel('Kind').selectOption('meeting');
  await activities.getByLabel('Subject').fill('Site visit');
  await activities.getByLabel('Details').fill('Met the CTO');
  await activities.getByRole('button', { name: 'Log activity' }).click();
  await expect(activities).toContainText('Site visit');
  await expect(activities).toContainText('meeting');

  await facts.getByRole('link', { name: 'Globex Holdings' }).click();
  await expect(page.getByTestId('company-name')).toHaveText('Globex Holdings');
  await expect(page.getByTestId('subsidiaries')).toContainText('Globex Labs');
});

test('a deal is opened from the board, edited in full and its activity logged', async ({ page }) => {
  await signUp(page, 'Dora Dealer');
  await newCompany(page, 'Initech');
  await page.goto('/pipeline');
  await hydrated(page);
  await page.getByText('New deal').click();
  await page.getByLabel('Deal name').fill('Initech renewal');
  await page.getByLabel('Deal amount').fill('9,000');
  await page.getByRole('button', { name: 'Create deal' }).click();
  await page.getByRole('link', { name: 'Initech renewal' }).click();
  await expect(page.getByTestId('deal-name')).toHaveText('Initech renewal');
  await hydrated(page);
  await expect(page.getByTestId('deal-amount')).toHaveText('9,000.00 USD');

  await page.getByLabel('Stage').selectOption({ label: 'Proposal' });
  await page.getByLabel('Amount', { exact: true }).fill('12,500.50');
  await page.getByLabel('Currency').fill('EUR');
  await page.getByLabel('Expected close').fill('2027-01-31');
  await page.getByLabel('Company').selectOption({ label: 'Initech' });
  await page.getByLabel('Owner').selectOption({ label: 'Dora Dealer' });
  await page.getByRole('button', { name: 'Save deal' }).click();
  await expect(page.getByTestId('deal-amount')).toHaveText('12,500.50 EUR');
  await expect(page.getByTestId('deal-stage')).toHaveText('Proposal');
  await expect(page.getByRole('link', { name: 'Initech' })).toBeVisible();
  await expect(page.locator('dl.facts')).toContainText('01/31/2027');

  const activities = page.getByTestId('activities');
  await activities.getByLabel('Subject').fill('Pricing call');
  await activities.getByRole('button', { name: 'Log activity' }).click();
  await expect(activities).toContainText('Pricing call');

  // Survives a reload, and the board shows the new stage and amount.
  await page.reload();
  await expect(page.getByTestId('deal-amount')).toHaveText('12,500.50 EUR');
  await expect(page.getByTestId('activities')).toContainText('Pricing call');
  await page.goto('/pipeline');
  const proposal = page.locator('section.column[data-stage="proposal"]');
  await expect(proposal).toContainText('12,500.50 EUR');

  // A bad amount is refused with the reason and changes nothing.
  await proposal.getByRole('link', { name: 'Initech renewal' }).click();
  await hydrated(page);
  await page.getByLabel('Amount', { exact: true }).fill('lots');
  await page.getByRole('button', { name: 'Save deal' }).click();
  await expect(page.getByRole('alert')).toContainText('amount must be a number');
  await page.reload();
  await expect(page.getByTestId('deal-amount')).toHaveText('12,500.50 EUR');
});

test('a stage is renamed and its probability changed', async ({ page }) => {
  await signUp(page, 'Stan Settings');
  await page.goto('/settings/stages');
  await hydrated(page);
  await page.getByTestId('stages').locator('tr', { hasText: 'Qualified' }).getByText('Edit').click();
  const form = page.getByRole('form', { name: 'Edit Qualified' });
  await form.getByLabel('Stage name').fill('Discovery');
  await form.getByLabel('Stage probability %').fill('15');
  await form.getByRole('button', { name: 'Save stage' }).click();
  const rows = page.getByTestId('stages').locator('tbody tr');
  await expect(rows.nth(1)).toContainText('Discovery');
  await expect(rows.nth(1)).toContainText('15%');
});

test('a task is assigned to nobody or a member, and leads filter by owner', async ({ page }) => {
  await signUp(page, 'Tom Tasker');
  await page.goto('/tasks');
  await hydrated(page);
  await page.getByLabel('Task', { exact: true }).fill('Unowned chore');
  await page.getByLabel('Assignee').selectOption({ label: 'Nobody' });
  await page.getByRole('button', { name: 'Add task' }).click();
  await page.getByLabel('Task', { exact: true }).fill('My chore');
  await page.getByLabel('Assignee').selectOption({ label: 'Tom Tasker' });
  await page.getByRole('button', { name: 'Add task' }).click();
  const tasks = page.getByTestId('tasks');
  await expect(tasks.locator('tr', { hasText: 'My chore' })).toContainText('Tom Tasker');
  await expect(tasks.locator('tr', { hasText: 'Unowned chore' })).toContainText('—');

  await page.goto('/leads');
  await hydrated(page);
  const addLead = page.locator('section.card', { hasText: 'Add a lead' });
  await addLead.getByLabel('Lead name').fill('Owned Lead');
  await addLead.getByRole('button', { name: 'Add lead' }).click();
  await expect(page.getByTestId('leads')).toContainText('Owned Lead');
  await page.getByLabel('Owner').selectOption('unassigned');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByText('No leads match.')).toBeVisible();
  await page.getByLabel('Owner').selectOption({ label: 'Tom Tasker' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByTestId('leads')).toContainText('Owned Lead');
});

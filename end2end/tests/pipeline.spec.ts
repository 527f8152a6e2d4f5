import { expect, test } from '@playwright/test';
import { hydrated } from './helpers';

test('a lead is converted into a deal that is dragged to another stage', async ({ page }) => {
  const email = `pipeline.${Date.now()}@example.com`;
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Your name').fill('Pia Pipeline');
  await page.getByLabel('Work email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByLabel('Workspace name').fill('Pipeline team');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);

  // A lead arrives and is opened.
  await page.getByRole('link', { name: 'Leads', exact: true }).click();
  await expect(page).toHaveURL(/\/leads$/);
  await hydrated(page);
  const addLead = page.locator('section.card', { hasText: 'Add a lead' });
  await addLead.getByLabel('Lead name').fill('Katherine Johnson');
  await addLead.getByLabel('Email').fill(`kj.${Date.now()}@nasa.example`);
  await addLead.getByLabel('Company').fill('NASA');
  await addLead.getByLabel('Source').selectOption('website');
  await addLead.getByRole('button', { name: 'Add lead' }).click();
  await page.getByTestId('leads').getByRole('link', { name: 'Katherine Johnson' }).click();
  await expect(page.getByTestId('lead-name')).toHaveText('Katherine Johnson');

  // A call is logged and shows on the lead's timeline.
  const log = page.locator('section.card', { hasText: 'Log an activity' });
  await log.getByLabel('Kind').selectOption('call');
  await log.getByLabel('Subject').fill('Discovery call');
  await log.getByRole('button', { name: 'Log' }).click();
  await expect(page.getByTestId('timeline')).toContainText('Discovery call');
  await expect(page.getByTestId('timeline')).toContainText('Lead created');

  // Converted with a $9,000 deal in Qualified.
  await page.getByLabel('Stage').selectOption({ label: 'Qualified' });
  await page.getByLabel('Amount').fill('9,000');
  await page.getByRole('button', { name: 'Convert lead' }).click();
  await expect(page.getByTestId('lead-status')).toHaveText('converted');
  await expect(page.getByTestId('timeline')).toContainText('Converted');

  // The deal sits in Qualified on the board, then is dragged to Proposal.
  await page.getByRole('link', { name: 'Open the pipeline' }).click();
  await expect(page).toHaveURL(/\/pipeline$/);
  await hydrated(page);
  const qualified = page.locator('section.column[data-stage="qualified"]');
  const proposal = page.locator('section.column[data-stage="proposal"]');
  const card = page.locator('.deal-card[data-deal="NASA deal"]');
  await expect(qualified.locator('.deal-card')).toHaveCount(1);
  await expect(qualified).toContainText('9,000.00 USD');
  await card.dragTo(proposal);
  await expect(proposal.locator('.deal-card[data-deal="NASA deal"]')).toBeVisible();
  await expect(proposal.getByTestId('stage-count')).toHaveText('1');
  await expect(qualified.getByTestId('stage-count')).toHaveText('0');

  // The move persisted: a fresh load shows it in Proposal.
  await page.reload();
  await hydrated(page);
  await expect(page.locator('section.column[data-stage="proposal"] .deal-card[data-deal="NASA deal"]')).toBeVisible();

  // The dashboard counts the open deal, weighted by its stage.
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByText('9,000.00 USD').first()).toBeVisible();
  await expect(page.getByText('weighted 4,500.00 USD')).toBeVisible();
  await expect(page.locator('figure.chart svg').first()).toBeVisible();

  // The conversion made the company with the contact linked to it.
  await page.goto('/companies');
  await page.getByTestId('companies').getByRole('link', { name: 'NASA' }).click();
  await expect(page.getByTestId('company-people')).toContainText('Katherine Johnson');

  // And the move was audited with the stage before and after.
  const events = await (await page.request.get('/api/v1/audit-events?action=deal.stage_changed')).json();
  expect(events.data).toHaveLength(1);
  expect(events.data[0].before.stage_key).toBe('qualified');
  expect(events.data[0].after.stage_key).toBe('proposal');
});

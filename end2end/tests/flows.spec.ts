import { expect, test } from '@playwright/test';
import * as http from 'node:http';
import { hydrated, signUp } from './helpers';

/** A loopback HTTP service that keeps every POST it receives (a Slack-style incoming webhook). */
async function standIn(): Promise<{ url: string; received: { headers: http.IncomingHttpHeaders; body: any }[]; close: () => void }> {
  const received: { headers: http.IncomingHttpHeaders; body: any }[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (chunk) => (data += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(data || 'null') });
      // A slow answer: the run page is open while the step is in flight.
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      }, 2000);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as any).port;
  return { url: `http://127.0.0.1:${port}/alerts`, received, close: () => server.close() };
}

test('a two-step flow is built from a template in the editor, triggered, and its trace completes live', async ({ page }) => {
  const alerts = await standIn();
  await signUp(page, 'Flo Builder');
  const lead = await (await page.request.post('/api/v1/leads', { data: { name: 'Hattie Hot', email: 'hattie@hot.example', score: 40 } })).json();

  // The gallery: pick the score-threshold alert and fill its typed inputs.
  await page.goto('/flows/templates');
  await hydrated(page);
  const template = page.getByTestId('template-score-threshold-alert');
  await template.getByLabel('The score that makes a lead hot').fill('70');
  await template.getByLabel('Where the alert is posted').fill(alerts.url);
  await template.getByRole('button', { name: 'Use this template' }).click();
  await expect(page).toHaveURL(/\/flows\/[0-9a-f-]{36}$/);
  await hydrated(page);

  // The editor draws both steps and the arrow between them.
  await expect(page.getByTestId('node-notify')).toBeVisible();
  await expect(page.getByTestId('node-task')).toBeVisible();
  await expect(page.locator('g.edge[data-from="notify"][data-to="task"]')).toBeAttached();
  await expect(page.getByTestId('trigger')).toContainText('lead.score_crossed');
  await expect(page.getByTestId('versions')).toContainText('newest v1 · published none');

  // Edit the second step in the side panel: a new draft version.
  const step = page.getByTestId('step-task');
  await step.locator('summary').click();
  await step.getByLabel('Name', { exact: true }).fill('Call the hot lead');
  await step.getByRole('button', { name: 'Save step' }).click();
  await expect(page.getByTestId('versions')).toContainText('newest v2');
  await expect(page.getByTestId('node-task')).toContainText('Call the hot lead');

  // A broken action is refused, naming the step; nothing changes.
  const broken = page.getByTestId('step-notify');
  await broken.locator('summary').click();
  await broken.getByLabel(/Action/).fill('{"type": "send_webhook", "url": "ftp://nowhere"}');
  await broken.getByRole('button', { name: 'Save step' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'notify' })).toBeVisible();
  await expect(page.getByTestId('versions')).toContainText('newest v2');

  await page.getByRole('button', { name: 'Publish v2' }).click();
  await expect(page.getByTestId('versions')).toContainText('published v2');

  // Start a run and watch the trace fill in (server-sent events).
  await page.getByLabel('Payload (JSON)').fill(JSON.stringify({ lead_id: lead.id, new_score: 88 }));
  await page.getByRole('button', { name: 'Start a run' }).click();
  await expect(page).toHaveURL(/\/flows\/runs\/[0-9a-f-]{36}$/);
  await hydrated(page);
  // The page shows the run in flight, then follows it to the end without a reload.
  await expect(page.getByTestId('run-status')).not.toHaveText('succeeded', { timeout: 1000 });
  await expect(page.getByTestId('run-status')).toHaveText('succeeded');
  const rows = page.getByTestId('trace-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText('notify');
  await expect(rows.nth(1)).toContainText('task');
  await expect(rows.nth(1)).toContainText('succeeded');

  // The alert reached the stand-in, signed.
  expect(alerts.received).toHaveLength(1);
  expect(alerts.received[0].body.data.text).toContain('88');
  expect(alerts.received[0].headers['x-corral-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  alerts.close();
});

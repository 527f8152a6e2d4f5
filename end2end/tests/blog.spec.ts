import { expect, test } from '@playwright/test';
import * as http from 'node:http';
import { hydrated, signUp } from './helpers';

/** A stand-in WordPress REST API: checks the application password and answers as WordPress does. */
async function wordpress(): Promise<{ url: string; posts: any[]; close: () => void }> {
  const posts: any[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const expected = 'Basic ' + Buffer.from('editor:app pass word').toString('base64');
      if (request.url !== '/wp-json/wp/v2/posts' || request.headers.authorization !== expected) {
        response.writeHead(401, { 'content-type': 'application/json' });
        return response.end(JSON.stringify({ code: 'rest_cannot_create', message: 'Sorry, you are not allowed to create posts as this user.' }));
      }
      const post = JSON.parse(body);
      posts.push(post);
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ id: 7, link: `https://blog.example.test/${post.slug}/` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, posts, close: () => server.close() };
}

test('a post is written with a live preview, approved, and published to WordPress', async ({ page, browser }) => {
  const wp = await wordpress();
  await signUp(page, 'Bea Blogger');
  expect((await page.request.post('/api/v1/marketing/blog/connectors', {
    data: { kind: 'wordpress', name: 'Company blog', base_url: wp.url, settings: { username: 'editor' }, secret: 'app pass word' },
  })).status()).toBe(201);

  await page.goto('/blog');
  await hydrated(page);
  const start = page.getByTestId('new-post');
  await start.getByLabel('Title').fill('Five ways to follow up');
  await start.getByLabel('Publish to').selectOption({ label: 'Company blog (WordPress)' });
  await start.getByRole('button', { name: 'New post' }).click();
  await expect(page).toHaveURL(/\/blog\/[0-9a-f-]+$/);
  await hydrated(page);
  const postUrl = page.url();

  // The preview follows the Markdown as it is typed, sanitised.
  await page.getByLabel('Body (Markdown)').fill('## Call within an hour\n\nLeads go **cold** fast. <script>alert(1)</script>');
  await expect(page.getByTestId('preview').locator('h2')).toHaveText('Call within an hour');
  await expect(page.getByTestId('preview').locator('strong')).toHaveText('cold');
  await expect(page.getByTestId('preview').locator('script')).toHaveCount(0);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByTestId('post-status')).toHaveText('Draft');
  await page.getByRole('button', { name: 'Request approval' }).click();
  await expect(page.getByTestId('post-status')).toHaveText('Waiting for approval');
  expect(wp.posts).toHaveLength(0);

  const invitation = await (await page.request.post('/api/v1/invitations', { data: { email: `pat.${Date.now()}@example.com`, role: 'approver' } })).json();
  const context = await browser.newContext();
  const approver = await context.newPage();
  expect((await approver.request.post('/api/v1/invitations/accept', {
    data: { token: invitation.token, name: 'Pat Approver', password: 'another good password' },
  })).ok()).toBeTruthy();
  await approver.goto(postUrl);
  await hydrated(approver);
  await approver.getByRole('button', { name: 'Approve' }).click();
  await expect(approver.getByTestId('post-status')).toHaveText('Approved');
  await context.close();

  await page.reload();
  await hydrated(page);
  await page.getByRole('button', { name: 'Publish now' }).click();
  await expect.poll(async () => { await page.reload(); return page.getByTestId('post-status').textContent(); }).toBe('Published');
  await expect(page.getByTestId('published-url')).toHaveText('https://blog.example.test/five-ways-to-follow-up/');
  expect(wp.posts[0].content).toContain('<h2>Call within an hour</h2>');
  expect(wp.posts[0].content).not.toContain('<script');
  wp.close();
});

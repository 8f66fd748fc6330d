// GraphiQL in a real browser (Debian's Chromium, driven by playwright-core)
// with every request to anything but the server refused: the page, its
// scripts and the schema must all come from chitieu itself, the token is
// entered once, and a query runs and shows its result.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { tokens, url } from "./client.js";

const executablePath = process.env.CHITIEU_CHROMIUM || "/usr/bin/chromium";

const skip = process.env.CHITIEU_SKIP_BROWSER === "1" ? "Chromium is not installed" : false;

test("GraphiQL works with no network but the server", { skip }, async () => {
  const server = new URL(url);
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const refused: string[] = [];
  const consoleErrors: string[] = [];
  try {
    const context = await browser.newContext();
    await context.route("**/*", (route) => {
      const target = new URL(route.request().url());
      if (target.host === server.host) return route.continue();
      refused.push(target.href);
      return route.abort("internetdisconnected");
    });
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));

    await page.goto(`${server.origin}/graphiql`);
    await page.fill("#token", tokens.viewer);
    await page.click("#save-token");
    // The schema was fetched by introspection: the docs explorer lists the root.
    await page.waitForSelector(".graphiql-query-editor .CodeMirror", { timeout: 30_000 });

    const run = async (query: string, expected: string): Promise<string> => {
      await page.evaluate((q) => {
        const editor = document.querySelector(".graphiql-query-editor .CodeMirror") as any;
        editor.CodeMirror.setValue(q);
      }, query);
      await page.click(".graphiql-execute-button");
      const response = page.locator(".graphiql-response .CodeMirror");
      await response.getByText(expected).first().waitFor({ timeout: 20_000 });
      return (await response.innerText()).trim();
    };

    const shown = await run("{ me { id } orgUnits { code } }", "lanh-dao");
    assert.match(shown, /"code"/);

    // Entered once: a new visit still sends it.
    await page.reload();
    await page.waitForSelector(".graphiql-query-editor .CodeMirror");
    assert.equal(await page.inputValue("#token"), tokens.viewer);
    await run("{ me { name } }", "Lãnh đạo");

    // The schema reached the page (introspection under its own depth budget).
    const schemaError = await page.getByText("Error fetching schema").count();
    assert.equal(schemaError, 0, "GraphiQL could not fetch the schema");
    await page.click('button[aria-label="Show Documentation Explorer"]');
    await page.getByText("QueryRoot").first().waitFor({ timeout: 10_000 });

    assert.deepEqual(refused, [], "the page asked for something off the server");
    assert.deepEqual(consoleErrors, []);
  } finally {
    await browser.close();
  }
});

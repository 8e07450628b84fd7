"""A person at the browser: their own context (cookies), signing in as a person does, an axe-core scan,
screenshots, and a guard that fails the test if a page reaches for anything off this machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Page, Route

from tests.browser.conftest import ARTIFACTS, AXE, Stack
from tests.pages_rig import EMAILS

LOCAL_HOSTS = ("127.0.0.1", "localhost")


@dataclass
class Person:
    context: BrowserContext
    page: Page
    offsite: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    async def close(self) -> None:
        await self.context.close()

    def assert_clean(self) -> None:
        assert not self.offsite, f"the page reached off the machine: {self.offsite}"
        assert not self.console_errors, f"console errors (a CSP violation shows here): {self.console_errors}"


async def open_browser(browser: Browser) -> Person:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    # Injected by the browser itself before any page script, so the CSP (no inline script) still holds.
    await context.add_init_script(path=str(AXE))
    page = await context.new_page()
    person = Person(context, page)

    async def guard(route: Route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            person.offsite.append(route.request.url)
            await route.abort()

    await context.route("**/*", guard)

    def on_console(message) -> None:
        # A refused step answers 409 by design; every other error (a CSP violation above all) counts.
        if message.type == "error" and not message.text.startswith("Failed to load resource: the server responded"):
            person.console_errors.append(message.text)

    page.on("console", on_console)
    return person


async def signed_in(browser: Browser, stack: Stack, person_id: str, then: str = "/me") -> Person:
    """The sign-in form, the link from the inbox, the button: as the person does it."""
    person = await open_browser(browser)
    page = person.page
    await page.goto(f"{stack.url}/signin?next={then}")
    await page.get_by_label("Work e-mail").fill(EMAILS[person_id])
    await page.get_by_role("button", name="Send me a sign-in link").click()
    await page.get_by_role("heading", name="Check your inbox").wait_for()
    await page.goto(stack.sender.last(person_id))
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{stack.url}{then}")
    return person


async def axe_violations(page: Page) -> list[str]:
    """Critical and serious findings of axe-core (vendored) on the page as it stands."""
    result = await page.evaluate(
        """async () => {
            const found = await axe.run(document, {resultTypes: ["violations"]});
            return found.violations
                .filter(v => v.impact === "critical" || v.impact === "serious")
                .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "));
        }"""
    )
    return list(result)


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

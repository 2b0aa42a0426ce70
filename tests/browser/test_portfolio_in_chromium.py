"""A government's journey in headless Chromium: a portfolio, agencies invited from a CSV file, one agency
answering in a browser of its own, the owner's dashboard, filters and PDF; axe-core on each portfolio page."""

import re

import pytest
from pypdf import PdfReader

from .test_journey_in_chromium import PASSWORD, _answer_every_dimension, _check_accessibility, _set_up

pytestmark = pytest.mark.browser
# As a European Excel saves "CSV": semicolons, the comma being the decimal sign. Sixty municipalities
# more, so that the agencies take two pages (50 a page) and the Tax office, by name, is on the second.
AGENCIES = ("name;type;size;contact\r\nTax office;agency;large;it@tax.example\r\nHealth ministry;ministry;large;\r\n"
            + "".join(f"Municipality {n:02d};municipality;small;\r\n" for n in range(60))).encode()


def _create_portfolio(page) -> None:
    """From the owner's workspace to the agencies page of a new portfolio."""
    page.get_by_role("link", name="Portfolios it runs").click()
    _check_accessibility(page, "portfolios")
    page.get_by_role("link", name="New portfolio").click()
    _check_accessibility(page, "new portfolio")
    page.get_by_label("Portfolio name").fill("National AI office")
    page.get_by_label("First round").fill("2026")
    page.get_by_role("button", name="Create the portfolio").click()
    page.get_by_role("heading", name="Agencies of National AI office").wait_for()
    _check_accessibility(page, "agencies, none invited")


def _invite_from_csv(page) -> str:
    """Upload a file with a mistake, then the agencies' file; the Tax office's one-time link, shown on this
    response only."""
    field = page.get_by_label("CSV file with the columns name,type,size,contact")
    field.set_input_files(files=[{"name": "agencies.csv", "mimeType": "text/csv",
                                  "buffer": b"name,type,size,contact\nTwin,a,b,\ntwin,a,b,\n"}])
    page.get_by_role("button", name="Import and invite").click()
    page.get_by_role("heading", name="Nothing was imported").wait_for()
    # The problems are the file field's: read out with it, and in focus, as a form's own errors are.
    assert page.title().startswith("Error: ") and page.locator(":focus").get_attribute("id") == "agency-problems"
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby").split() == ["file-help", "agency-problems"]
    _check_accessibility(page, "agencies, a file refused")
    field.set_input_files(files=[{"name": "agencies.csv", "mimeType": "text/csv", "buffer": AGENCIES}])
    page.get_by_role("button", name="Import and invite").click()
    page.get_by_role("heading", name="Invitation links").wait_for()
    _check_accessibility(page, "agencies with their links")
    assert "62 of 62 agencies, by name; page 1 of 2" in page.content()
    return page.get_by_role("row", name=re.compile("^Tax office")).locator("code").inner_text()


def _agency_answers(browser, link: str) -> None:
    """The Tax office accepts its link with a new account, in a browser context of its own, and
    answers every question at level 2 (an index of 50.0)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(link)
    _check_accessibility(page, "agency's invitation")
    page.get_by_label("Your name").fill("Tim Tax")
    page.get_by_label("Email address").fill("tim@tax.example")
    page.get_by_label("Password (at least 12 characters)").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account and accept").click()
    assert "Tax office has joined National AI office" in page.content()
    page.get_by_role("button", name="Save and continue").click()  # about the organization
    page.get_by_role("button", name="Save and continue").click()  # drivers
    _answer_every_dimension(page)
    page.get_by_role("button", name="Save and continue").click()  # barriers
    assert "Every question is answered." in page.content()
    page.get_by_role("link", name="Tax office", exact=True).first.click()  # its own workspace
    page.get_by_role("link", name="Portfolios it answers in").click()
    _check_accessibility(page, "agency's portfolio page")
    assert "National AI office" in page.content()
    context.close()


def _dashboard(page, portfolio: str) -> None:
    """The owner's dashboard with the Tax office's figures; filtered to its type; sorted by index."""
    page.goto(portfolio)
    assert "1 of 62 agencies have finished" in page.content() and "Tax office" not in page.content()
    assert "invited, not joined" in page.get_by_role("row", name=re.compile("Health ministry")).inner_text()
    _check_accessibility(page, "dashboard")
    page.get_by_role("navigation", name="Pages of agencies").get_by_role("link", name="Next page").click()
    tax = page.get_by_role("row", name=re.compile("Tax office"))
    assert re.search(r"1\s+Tax office\s+agency\s+large\s+48/48\s+50\.0", tax.inner_text())
    assert page.locator('nav [aria-current="page"]').text_content() == "Page 2"
    _check_accessibility(page, "dashboard, second page")
    page.get_by_label("Agency name contains").fill("HEALTH")
    page.get_by_role("button", name="Search").click()
    assert "1 agency whose name contains “HEALTH”" in page.content() and "Municipality" not in page.content()
    page.get_by_role("link", name="Show every agency").click()
    page.get_by_label("Agency type").select_option("agency")
    page.get_by_role("button", name="Show").click()
    assert "1 of 1 agencies have finished" in page.content() and "Health ministry" not in page.content()
    page.get_by_role("link", name=re.compile("^Index")).click()
    assert page.locator("th[aria-sort]").inner_text().startswith("Index") and "type=agency" in page.url
    _check_accessibility(page, "dashboard, filtered and sorted")
    page.get_by_role("link", name="Tax office").click()
    assert "read-only" in page.content()
    _check_accessibility(page, "agency's results for the owner")
    page.go_back()


def _download_the_pdf(page, tmp_path) -> str:
    """The worker that `sovready serve` starts renders the filtered round; its text."""
    page.get_by_role("link", name="PDF report").click()
    _check_accessibility(page, "portfolio report status")
    page.get_by_role("button", name="Prepare the PDF report").click()
    link = page.get_by_role("link", name="Download the PDF report")
    link.wait_for(timeout=60_000)
    _check_accessibility(page, "portfolio report ready")
    with page.expect_download() as download:
        link.click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    return " ".join(" ".join(p.extract_text() for p in PdfReader(path).pages).split())


def test_a_ministry_invites_agencies_by_csv_and_reads_their_figures(page, browser, server, instance, tmp_path):
    _set_up(page, server, instance)
    _create_portfolio(page)
    portfolio = page.url.removesuffix("/agencies")
    link = _invite_from_csv(page)
    _agency_answers(browser, link)
    _dashboard(page, portfolio)
    text = _download_the_pdf(page, tmp_path)
    assert "Agencies type = agency; 1 of 62" in text and "1. Tax office: 50.0" in text

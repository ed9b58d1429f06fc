"""The Traversals page in Chromium with the zoo's 16-D VAE: its units sorted by KL, a row of
decoded digits per active unit that changes along the row, the inactive units folded away (and,
unfolded, rows that do not change), against a screenshot baseline."""
import pytest
from playwright.sync_api import expect

from snapshot import assert_matches
from traversal_rows import row_changes

pytestmark = pytest.mark.browser

STEPS = 9


def test_traversals_draw_a_row_per_active_unit_and_fold_the_inactive_ones(app, update_snapshots):
    app.open("traversals", "vae-16d")
    page = app.page
    assert app.errors() == []
    expect(page.get_by_role("heading", name="12 active units of 16")).to_be_visible()
    main = page.locator('[data-testid="stMain"]')
    start = main.locator('[data-testid="stImage"]', has_text="the start: test")  # the default start
    expect(start).to_have_count(1)
    rows = main.locator('[data-testid="stImage"]', has_not_text="the start").locator("img").locator("visible=true")
    expect(rows).to_have_count(12)
    labels = [t.split() for t in main.locator('[data-testid="stMarkdownContainer"]', has=page.locator("strong"))
              .locator("visible=true").all_inner_texts() if t.startswith("unit ")]  # "unit 8\nKL 2.43 nats"
    assert len(labels) == 12 and len({words[1] for words in labels}) == 12
    kls = [float(words[3]) for words in labels]
    assert kls == sorted(kls, reverse=True) and kls[-1] >= 0.01  # most important first, all active
    assert min(row_changes(rows, STEPS, 28)) > 10  # every active unit's row changes the digit it draws

    folded = page.locator('[data-testid="stExpander"]', has_text="4 inactive units")
    expect(folded).to_be_visible()
    assert_matches(app.screenshot(), "traversals", update_snapshots)

    folded.locator("summary").click()
    app.wait_idle()
    inactive = folded.locator('[data-testid="stImage"] img')
    expect(inactive).to_have_count(4)
    assert max(row_changes(inactive, STEPS, 28)) < 5  # an inactive unit's row is one image repeated, nearly

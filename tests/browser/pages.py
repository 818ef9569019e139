"""Looking at the console's pages from a test: waits that survive the
pages' redraws (each poll replaces what it shows), one-step reads of
attributes and text, clicks and screenshots.

Selenium is imported where it is used, so a test module importing this
one is collected without it and skips through the ``browser_ready``
fixture (fails under CI=true).
"""

import os

from tests.browser.conftest import WAIT_S
from tests.browser.conftest import artifacts_dir

#: Selenium's locator strategies (``By.CSS_SELECTOR``, ``By.ID``).
CSS = 'css selector'
ID = 'id'


def wait(driver, condition, timeout=WAIT_S, what=''):
    """``condition(driver)`` once true; an element that went stale or
    was not there yet is looked for again."""
    from selenium.common import exceptions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(
        driver, timeout, poll_frequency=0.1,
        ignored_exceptions=(exceptions.NoSuchElementException,
                            exceptions.StaleElementReferenceException)
    ).until(condition, what)


def css(driver, selector):
    """The elements of ``selector`` now (maybe none)."""
    return driver.find_elements(CSS, selector)


def by_id(driver, element_id):
    return driver.find_element(ID, element_id)


def shown(driver, selector, timeout=WAIT_S):
    """The element of ``selector`` once it is displayed."""
    from selenium.webdriver.support import expected_conditions

    return wait(driver, expected_conditions.visibility_of_element_located(
        (CSS, selector)), timeout, 'shown: ' + selector)


def attr(driver, selector, name):
    """Attribute ``name`` of the first element of ``selector`` (None when
    there is none), read in one step."""
    return driver.execute_script(
        'const e = document.querySelector(arguments[0]);'
        'return e ? e.getAttribute(arguments[1]) : null;', selector, name)


def text(driver, selector):
    """The text the element of ``selector`` shows (None: no element)."""
    return driver.execute_script(
        'const e = document.querySelector(arguments[0]);'
        'return e ? e.innerText : null;', selector)


def click(driver, selector):
    """Click the element of ``selector`` (looked for again if a redraw
    replaced it)."""
    def clicked(d):
        d.find_element(CSS, selector).click()
        return True
    wait(driver, clicked, what='click ' + selector)


def shot(driver, name):
    """A screenshot of the whole page, ``<name>.png`` in the artifacts."""
    height = driver.execute_script(
        'return Math.max(document.body.scrollHeight, 1000)')
    driver.set_window_size(1440, min(height + 40, 2400))
    path = os.path.join(artifacts_dir(), name + '.png')
    assert driver.save_screenshot(path), path
    driver.set_window_size(1440, 1000)


def script_errors(driver):
    """The browser's severe console messages since the last call, other
    than failed requests (a 403 or 404 the page shows on purpose): script
    errors and Content-Security-Policy violations."""
    return [entry['message'] for entry in driver.get_log('browser')
            if entry['level'] == 'SEVERE'
            and 'Failed to load resource' not in entry['message']]

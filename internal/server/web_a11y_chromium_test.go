package server

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// a11yAudit is run in the page by TestConsoleIsAccessibleInHeadlessChromium.
// It returns one line per problem found: the document's language and title,
// one h1, an accessible name for every form control, link, button and
// image, table headers with a scope, and the contrast of every piece of
// visible text against the background it is drawn on (WCAG 2 AA: 4.5:1,
// 3:1 for large text), computed from the browser's own styles.
const a11yAudit = `(() => {
const out = [];
const desc = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '') +
  ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
const visible = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
const byIds = ids => (ids || '').split(/\s+/).map(id => document.getElementById(id)).filter(Boolean).map(e => e.textContent).join(' ');
const accName = el => [el.getAttribute('aria-label'), byIds(el.getAttribute('aria-labelledby')),
  el.labels ? Array.from(el.labels).map(l => l.textContent).join(' ') : '', el.getAttribute('title')]
  .map(s => (s || '').trim()).find(s => s) || '';
if (!document.documentElement.lang) out.push('the page has no lang');
if (!document.title.trim()) out.push('the page has no title');
const h1 = document.querySelectorAll('h1').length;
if (h1 !== 1) out.push('the page has ' + h1 + ' h1 headings');
for (const el of document.querySelectorAll('input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea')) {
  if (!accName(el)) out.push('form control without a label: ' + desc(el));
}
for (const el of document.querySelectorAll('a[href], button, input[type=submit], input[type=button]')) {
  if (!visible(el)) continue;
  const n = (el.getAttribute('aria-label') || el.textContent || el.value || '').trim();
  if (!n) out.push('link or button without a name: ' + desc(el));
}
for (const el of document.querySelectorAll('img')) if (!el.hasAttribute('alt')) out.push('image without alt: ' + desc(el));
for (const el of document.querySelectorAll('svg')) {
  if (el.closest('[aria-hidden=true]') || el.parentElement.closest('svg')) continue;
  if (el.getAttribute('role') !== 'img' || !el.getAttribute('aria-label')) out.push('chart without role=img and a label: ' + desc(el));
}
for (const el of document.querySelectorAll('th')) {
  if (!el.getAttribute('scope') && !el.id) out.push('table header without scope: ' + desc(el));
}
const rgb = c => { const p = (c.match(/[\d.]+/g) || []).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
const background = el => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.a > 0) return c; }
  return {r: 255, g: 255, b: 255, a: 1}; };
const seen = new Set();
const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = walk.nextNode(); n; n = walk.nextNode()) {
  const el = n.parentElement;
  if (!n.textContent.trim() || !el || seen.has(el) || el.closest('svg') || !visible(el)) continue;
  seen.add(el);
  const s = getComputedStyle(el), fg = rgb(s.color), bg = background(el);
  const l1 = lum(fg), l2 = lum(bg), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
  const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
  if (ratio < need) out.push('contrast ' + ratio.toFixed(2) + ' < ' + need + ' (' + s.color + ' on rgb(' + bg.r + ',' + bg.g + ',' + bg.b + ')): ' + desc(el));
}
if (document.documentElement.scrollWidth > window.innerWidth) out.push('the page is ' + document.documentElement.scrollWidth + 'px wide in a ' + window.innerWidth + 'px window');
return out;
})()`

// tabbable lists the page's visible controls a keyboard user must reach.
const tabbable = `Array.from(document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea'))
  .filter(el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && !el.disabled && el.tabIndex >= 0; }).length`

// focusState describes the focused element and whether it shows that it
// has the focus (an outline or a ring).
const focusState = `(() => { const el = document.activeElement; if (!el || el === document.body) return '';
  const s = getComputedStyle(el);
  const shown = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  const i = Array.from(document.querySelectorAll('a[href], button, input, select, textarea')).indexOf(el);
  return (shown ? 'shown ' : 'hidden ') + i + ' ' + el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' ' + (el.textContent || el.value || '').trim().slice(0, 30); })()`

// TestConsoleIsAccessibleInHeadlessChromium checks the console's pages, and
// the sign-in and enrolment pages it sends users through, as a browser
// draws them: names for every control and chart, contrast, a page that
// fits a phone's width, and every control reachable with the Tab key with
// a visible focus.
func TestConsoleIsAccessibleInHeadlessChromium(t *testing.T) {
	b := newBrowserEstate(t, "ida@steward.test", "Ida", "Ida-Password-1")
	v, s := b.v, b.v.s
	v.plane.Internal.AdminGroups = []string{b.approvers} // the catalog page shows its form

	c := newChromiumTab(t)
	base := strings.TrimSuffix(s.BaseURL, "/")
	audit := func(page string) {
		t.Helper()
		for _, width := range []int64{1200, 390} {
			c.do(chromedp.EmulateViewport(width, 844))
			for _, p := range evalJS[[]string](c, a11yAudit) {
				t.Errorf("%s page at %d px: %s", page, width, p)
			}
		}
		c.do(chromedp.EmulateViewport(1200, 900))
	}
	// keyboard tabs through the page from its top and checks that each
	// control takes the focus in turn and shows it.
	keyboard := func(page string) {
		t.Helper()
		n := evalJS[int](c, tabbable)
		evalJS[int](c, `window.scrollTo(0, 0), 0`)
		// A page may put the focus on its first field when it loads.
		reached := map[string]bool{}
		var order []string
		if state := evalJS[string](c, focusState); state != "" {
			reached[state] = true
			order = append(order, state)
		}
		for len(order) < n {
			c.do(chromedp.KeyEvent("\t"))
			state := evalJS[string](c, focusState)
			if state == "" {
				t.Errorf("%s page: the Tab key left the page after %v, of %d controls", page, order, n)
				return
			}
			if strings.HasPrefix(state, "hidden ") {
				t.Errorf("%s page: the focus on %s is not visible", page, strings.TrimPrefix(state, "hidden "))
			}
			reached[state] = true
			order = append(order, state)
		}
		if len(reached) < n {
			t.Errorf("%s page: the Tab key reached %d different controls of %d: %v", page, len(reached), n, order)
		}
	}

	c.do(chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS("#passwd")))
	audit("sign-in")
	keyboard("sign-in")
	c.do(chromedp.SendKeys(chromedp.CSS("#login"), "ida@steward.test"),
		chromedp.SendKeys(chromedp.CSS("#passwd"), "Ida-Password-1"),
		chromedp.Submit(chromedp.CSS("#passwd")), chromedp.WaitVisible(chromedp.CSS("table")))

	for _, p := range []struct{ name, path, ready string }{
		{"overview", "/console/", "h1"},
		{"alerts", "/console/alerts", "h1"},
		{"logs", "/console/kql", "#query"},
		{"vending", "/console/vending", `button[value=approve]`},
		{"credentials", "/console/credentials", "h1"},
		{"access", "/console/access", "h1"},
		{"delegation", "/console/delegation", "h1"},
		{"roles", "/console/roles", "#grant"},
		{"catalog", "/console/catalog", "#authorize"},
		{"security", "/console/security", "#stepup-status"},
	} {
		c.do(chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		audit(p.name)
		keyboard(p.name)
	}

	// A query's result and chart, and the drill-down to a resource.
	c.do(chromedp.Navigate(base+"/console/kql"), chromedp.WaitVisible(chromedp.CSS("#query")),
		chromedp.SendKeys(chromedp.CSS("#query"), "range t from datetime(2026-12-01) to datetime(2026-12-02) step 1h | extend n = hourofday(t) * 2 | render columnchart"),
		chromedp.Submit(chromedp.CSS("#query")), chromedp.WaitVisible(chromedp.CSS("#chart")))
	audit("logs with a chart")
	for deadline := 0; !strings.Contains(c.text("main"), "nsg-needs-env: 1"); deadline++ {
		if deadline == 60 {
			t.Fatalf("the overview shows no non-compliant assignment:\n%s", c.text("main"))
		}
		c.do(chromedp.Sleep(1e9), chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	}
	c.do(chromedp.Click(chromedp.CSS(`table.assignments a`)), chromedp.WaitVisible(chromedp.CSS("#noncompliant")))
	audit("assignment")
	keyboard("assignment")
	c.do(chromedp.Click(chromedp.CSS(`#noncompliant tbody a`)), chromedp.WaitVisible(chromedp.CSS("table.expressions")))
	audit("resource")

	// The step-up's enrolment page, where a user without a second factor
	// sets up an authenticator app.
	c.do(chromedp.Navigate(base+"/console/security"), chromedp.WaitVisible(chromedp.CSS("#stepup")),
		chromedp.Click(chromedp.CSS("#stepup")), chromedp.WaitVisible(chromedp.CSS("#otc")))
	audit("enrolment")
	keyboard("enrolment")
}

// evalJS evaluates a JavaScript expression in the tab and returns its value.
func evalJS[T any](c *chromiumTab, js string) T {
	c.t.Helper()
	sctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.EvaluateAsDevTools[T](js))
	if err != nil {
		c.t.Fatal(err)
	}
	return v
}

from website.tracker_build import (
    CHAT_GZIP_BUDGET,
    CHAT_SOURCE,
    CHAT_TARGET,
    GZIP_BUDGET,
    SOURCE,
    TARGET,
    gzip_size,
    minify,
)


def test_committed_minified_tracker_is_current_and_within_budget():
    minified = minify(SOURCE.read_text())
    assert TARGET.read_text() == minified, "run: .venv/bin/python -m website.tracker_build"
    assert gzip_size(minified) <= GZIP_BUDGET
    assert len(minified) < len(SOURCE.read_text()) * 0.7


def test_minifier_keeps_strings_and_separates_words():
    assert minify('var a = "x  // y";  // note\nreturn  a;') == 'var a="x  // y";return a;\n'
    assert minify("/* block */ if (a) { b(); }") == "if(a){b();}\n"


def test_minifier_leaves_string_contents_alone():
    # The hand-written minifier turned "x,}" into "x}" (issue #22).
    assert minify('var s = "x,}", t = \'y,]\', u = "z,)";') == 'var s="x,}",t=\'y,]\',u="z,)";\n'


def test_minifier_keeps_the_space_between_a_minus_and_a_negation():
    # The hand-written minifier turned `a - -b` (a plus b) into `a--b` (a syntax error).
    out = minify("var c = a - -b; var d = a + +b; var e = a - --b;")
    assert "a--b" not in out and "a++b" not in out and "a---b" not in out
    assert out == "var c=a- -b;var d=a+ +b;var e=a- --b;\n"


def test_minifier_keeps_regular_expression_literals():
    assert minify("var r = /,}  x/g;") == "var r=/,}  x/g;\n"


def test_committed_chat_widget_is_current_and_within_its_budget():
    minified = minify(CHAT_SOURCE.read_text())
    assert CHAT_TARGET.read_text() == minified, "run: .venv/bin/python -m website.tracker_build"
    assert gzip_size(minified) <= CHAT_GZIP_BUDGET


def test_the_tracker_loads_the_chat_widget_only_when_asked():
    tracker = SOURCE.read_text()
    assert '"chat" in data' in tracker and "madansara-chat.min.js" in tracker
    assert "madansara-chat" not in SOURCE.read_text().split('"chat" in data')[0].split("*/", 1)[1]


def test_built_scripts_are_ascii_so_any_page_charset_reads_them():
    # A page without <meta charset> decoded the widget's "…" and "💬" as windows-1252.
    assert minify('var s = "Écrivez…💬";') == 'var s="\\u00c9crivez\\u2026\\ud83d\\udcac";\n'
    assert TARGET.read_text().isascii() and CHAT_TARGET.read_text().isascii()

from website.tracker_build import GZIP_BUDGET, SOURCE, TARGET, gzip_size, minify


def test_committed_minified_tracker_is_current_and_within_budget():
    minified = minify(SOURCE.read_text())
    assert TARGET.read_text() == minified, "run: .venv/bin/python -m website.tracker_build"
    assert gzip_size(minified) <= GZIP_BUDGET
    assert len(minified) < len(SOURCE.read_text()) * 0.7


def test_minifier_keeps_strings_and_separates_words():
    assert minify('var a = "x  // y";  // note\nreturn  a;') == 'var a="x  // y";return a;\n'
    assert minify("/* block */ if (a) { b(); }") == "if(a){b();}\n"

import pytest

from website.classify import classify_landing, parse_client, truncate_ip


@pytest.mark.parametrize(
    ("url", "referrer", "expected"),
    [
        ("https://shop.example.com/", "", "direct"),
        ("https://shop.example.com/", "https://shop.example.com/other", "direct"),
        ("https://shop.example.com/", "https://www.google.com/", "organic_search"),
        ("https://shop.example.com/?gclid=abc", "https://www.google.com/", "paid_search"),
        ("https://shop.example.com/?utm_source=google&utm_medium=cpc", "", "paid_search"),
        ("https://shop.example.com/", "https://t.co/xyz", "social"),
        ("https://shop.example.com/?fbclid=1", "", "social"),
        ("https://shop.example.com/?utm_source=news&utm_medium=email", "", "email"),
        ("https://shop.example.com/?ms_mid=9b2c", "", "outreach"),
        ("https://shop.example.com/", "https://blog.partner.org/post", "referral"),
    ],
)
def test_traffic_source_classes(url, referrer, expected):
    assert classify_landing(url, referrer).traffic_class == expected


def test_landing_keeps_utm_tags_and_infers_source_from_referrer():
    tagged = classify_landing("https://s.example/?utm_source=nl&utm_medium=email&utm_campaign=black-friday")
    assert (tagged.source, tagged.medium, tagged.campaign) == ("nl", "email", "black-friday")
    organic = classify_landing("https://s.example/", "https://duckduckgo.com/")
    assert (organic.source, organic.medium) == ("duckduckgo.com", "organic")


def test_ip_addresses_are_truncated():
    assert truncate_ip("203.0.113.77") == "203.0.113.0"
    assert truncate_ip("2001:db8:abcd:12:34::1") == "2001:db8:abcd::"
    assert truncate_ip("not an ip") == ""


def test_user_agents_give_device_browser_os_and_bot_flag():
    iphone = parse_client(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.0 Mobile/15E148 Safari/604.1"
    )
    assert (iphone.device, iphone.browser, iphone.os, iphone.is_bot) == ("mobile", "Mobile Safari", "iOS", False)
    assert parse_client("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)").is_bot

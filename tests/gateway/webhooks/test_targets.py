"""Target URLs: normalized for signing, held to the allowed hosts."""

from __future__ import annotations

import pytest

from gateway.webhooks.errors import InvalidTarget, TargetNotAllowed
from gateway.webhooks.targets import check_target, host_allowed, normalize_target


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("HTTPS://DZJC.Example.gov.cn/hook", "https://dzjc.example.gov.cn/hook"),
        ("http://10.1.2.3:8080", "http://10.1.2.3:8080/"),
        (
            "https://监察.中国/回调?q=张三",
            "https://xn--ldtx04d.xn--fiqs8s/%E5%9B%9E%E8%B0%83?q=%E5%BC%A0%E4%B8%89",
        ),
        ("http://[::1]:9000/a%20b", "http://[::1]:9000/a%20b"),
    ],
)
def test_targets_are_stored_ascii_and_normalized(given: str, stored: str) -> None:
    assert normalize_target(given) == stored
    assert normalize_target(stored) == stored  # normalizing twice changes nothing


def test_allowed_hosts() -> None:
    allowed = ("dzjc.example.gov.cn", "*.qz.gov.cn", "10.1.2.3")
    assert host_allowed("DZJC.example.gov.cn", allowed)
    assert host_allowed("a.b.qz.gov.cn", allowed) and not host_allowed("qz.gov.cn.evil", allowed)
    assert not host_allowed("evilqz.gov.cn", allowed)
    assert host_allowed("10.1.2.3", allowed) and not host_allowed("10.1.2.4", allowed)
    assert not host_allowed("anything", ()) and host_allowed("anything", ("*",))
    assert check_target("http://x.qz.gov.cn/h", allowed) == "http://x.qz.gov.cn/h"
    with pytest.raises(TargetNotAllowed):
        check_target("http://169.254.169.254/", allowed)
    with pytest.raises(InvalidTarget):
        check_target("gopher://x.qz.gov.cn/", allowed)

"""The URLconf as a whole."""

from collections import Counter

from django.urls import URLPattern, URLResolver, get_resolver


def routes(patterns, prefix: str = "") -> list[str]:
    """Every route the URLconf serves, spelled out from the root."""
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            found.append(route)
    return found


def test_no_route_is_shadowed_by_another():
    served = routes(get_resolver().url_patterns)

    assert [route for route, count in Counter(served).items() if count > 1] == []

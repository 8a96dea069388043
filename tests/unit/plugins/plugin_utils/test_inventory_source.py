"""The inventory cache pattern the collection's inventory plugins share
(plugin_utils/inventory_source.py). Its constructed options (compose, groups, keyed_groups,
strict) are tested through both plugins: tests/unit/plugins/inventory and the integration tests."""

from ansible_collections.homelab.stack.plugins.plugin_utils.inventory_source import CachedConstructedSource


class Source(CachedConstructedSource):
    """The mixin with options and a cache as BaseInventoryPlugin and Cacheable would give them."""

    def __init__(self, **options):
        super().__init__()
        self.options = dict({"cache": False}, **options)
        self._cache = {}
        self.reads = 0

    def get_option(self, name):
        return self.options[name]

    def get_cache_key(self, path):
        return "key-of-" + path

    def read(self):
        self.reads += 1
        return {"read": self.reads}


def test_without_the_cache_every_parse_reads_and_nothing_is_kept():
    source = Source()
    assert source.read_through_cache("a.yml", True, source.read) == {"read": 1}
    assert source.read_through_cache("a.yml", True, source.read) == {"read": 2}
    assert source._cache == {}


def test_with_the_cache_only_the_first_parse_reads():
    source = Source(cache=True)
    assert source.read_through_cache("a.yml", True, source.read) == {"read": 1}
    assert source.read_through_cache("a.yml", True, source.read) == {"read": 1}
    assert source.reads == 1 and source._cache == {"key-of-a.yml": {"read": 1}}


def test_a_refresh_reads_again_and_writes_the_cache_back():
    source = Source(cache=True)
    source.read_through_cache("a.yml", True, source.read)
    assert source.read_through_cache("a.yml", False, source.read) == {"read": 2}
    assert source._cache == {"key-of-a.yml": {"read": 2}}

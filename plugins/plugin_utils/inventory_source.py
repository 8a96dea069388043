# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every inventory plugin of the collection does alike: its cache and its constructed options.

The Proxmox VE and Tailscale plugins read their source once per parse() through the
inventory cache and finish each host with the user's compose, groups and keyed_groups.
"""

from __future__ import annotations

from ansible.plugins.inventory import Cacheable, Constructable


class CachedConstructedSource(Constructable, Cacheable):
    """A mixin for an inventory plugin (with BaseInventoryPlugin) whose documentation extends
    the ``ansible.builtin.constructed`` and ``ansible.builtin.inventory_cache`` fragments."""

    def read_through_cache(self, path, cache, read):
        """The source's data: from the inventory cache, or from ``read()`` and then cached.

        The usual pattern for Cacheable: the cache is read only when both the user
        (``cache: true``) and the caller allow it; a caller that forbids it (``meta:
        refresh_inventory``, ``--flush-cache``) gets fresh data, which is written back.
        ``read()`` returns what the cache keeps, so a cached run makes no request at all.
        """
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        data = None
        if use_cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if data is None:
            data = read()
        if update_cache:
            self._cache[cache_key] = data
        return data

    def construct_host(self, host, variables):
        """Apply compose, groups and keyed_groups to a host added already, with the strict option.

        ``variables`` are what the expressions see: the plugin's variables of the host, or
        all of the host's variables so far when the plugin lets other sources' count.
        """
        strict = self.get_option("strict")
        self._set_composite_vars(self.get_option("compose"), variables, host, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), variables, host, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, host, strict=strict)

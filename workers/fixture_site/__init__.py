"""A local HTTP fixture of Chinese government sites for tests, `govingest demo` and benchmarks.

    with FixtureSite(articles=300) as fx:
        write_sites_toml(tmp / "sites.toml", fx)
        ... crawl fx.site("siming").start_urls ...
        records = read_access_log(fx.access_log)

See `sites.py` for what each site serves. The hostile endpoints (gzip bomb, poison
page, ...) are test equipment in `tests/fixture_site/faults.py`, passed in as
`FixtureSite(extra_sites=[...])`.
"""
from govingest.workers.fixture_site.server import ALL_SITES, FixtureSite, SiteInfo, read_access_log
from govingest.workers.fixture_site.sites import Site
from govingest.workers.fixture_site.sites_toml import write_sites_toml

__all__ = ["ALL_SITES", "FixtureSite", "Site", "SiteInfo", "read_access_log", "write_sites_toml"]

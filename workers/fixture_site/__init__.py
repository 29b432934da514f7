"""A local HTTP fixture of Chinese government sites for tests, `govingest demo` and benchmarks.

    with FixtureSite(articles=300) as fx:
        write_sites_toml(tmp / "sites.toml", fx)
        ... crawl fx.site("siming").start_urls ...
        records = read_access_log(fx.access_log)

See `sites.py` for what each site serves and `faults.py` for the hostile endpoints.
"""
from govingest.workers.fixture_site.server import ALL_SITES, FixtureSite, SiteInfo, read_access_log
from govingest.workers.fixture_site.sites import FaultSettings
from govingest.workers.fixture_site.sites_toml import write_sites_toml

__all__ = ["ALL_SITES", "FaultSettings", "FixtureSite", "SiteInfo", "read_access_log", "write_sites_toml"]

-- `govingest status` read every list page (issue 15: 137 of its 148 ms at 1M URLs, 20k list
-- pages; bench/scale.py), redacting each URL, to print ten per site and a count. It now
-- asks for the count per site and each site's busiest pages (reader.list_pages): the
-- count from this index alone (an index-only scan: site and state are in it), the busiest
-- pages by walking it in order (site, shortest interval first) for a few rows per site.
-- Queries by site alone (frontier.site_list_pages) use it as they used the old one.
DROP INDEX IF EXISTS urls_list_pages_idx;
CREATE INDEX urls_list_pages_idx ON urls (site, list_interval, id) INCLUDE (state)
    WHERE kind IN ('list', 'feed');

-- 0030_crawl_dialects (issue 11): politeness at the wire, list dialects, request methods.
--
-- hosts.last_request_at / last_response_at: the fetch worker takes the host's slot
-- immediately before it sends (db.frontier.take_slot), so request *starts* are spaced
-- by the host's interval fleet-wide, whatever the delay between claim and send. A host
-- held to one request in flight (Crawl-delay, or concurrency 1) spaces the next start
-- from the previous response: the server stamps a request before it answers it, so
-- start(k+1) >= response(k) + interval >= stamp(k) + interval holds at the wire with
-- no assumption about network jitter.
ALTER TABLE hosts
    ADD COLUMN IF NOT EXISTS last_request_at  timestamptz NULL,
    ADD COLUMN IF NOT EXISTS last_response_at timestamptz NULL;

-- urls.kind 'pager': a later page of a list (index_3.html, a dataproxy.jsp range, an API
-- page). Fetched when the page before it yielded a new article, never on its own
-- schedule: deep pagination is often a stale stub.
ALTER TABLE urls DROP CONSTRAINT IF EXISTS urls_kind_check;
ALTER TABLE urls ADD CONSTRAINT urls_kind_check
    CHECK (kind IN ('list', 'article', 'attachment', 'pager', 'feed'));

-- urls.method: POST sends the URL's query as an application/x-www-form-urlencoded body
-- (Hanweb's jpage asks dataproxy.jsp by POST); the URL with every parameter in its
-- query stays the frontier's unique key.
ALTER TABLE urls ADD COLUMN IF NOT EXISTS method text NOT NULL DEFAULT 'GET'
    CHECK (method IN ('GET', 'POST'));

-- urls.dialect: the list dialect detected on the page (trs, hanweb, govcn, gkmlpt,
-- jsonapi, sitemap, feed, plain), so `demo` and `status` can say how articles were found.
ALTER TABLE urls ADD COLUMN IF NOT EXISTS dialect text NULL;

-- How often each site rule matched (govingest status): counted by the workers.
CREATE TABLE IF NOT EXISTS site_rule_hits (
    site    text NOT NULL REFERENCES sites(name) ON DELETE CASCADE,
    rule    text NOT NULL,             -- e.g. "deny:/print/", "body_selector:div.zw"
    hits    bigint NOT NULL DEFAULT 0,
    last_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, rule)
);

